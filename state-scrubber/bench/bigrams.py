#!/usr/bin/env python3
"""Print the letter-bigram table of state-scrubber/src/document/english.rs.

The table is built from the English prose of the repository's docs (docs/**/*.md, README.md,
state-scrubber/README.md): for each letter a, log2 of 26 * P(b | a) (add-half smoothing), times
8, as i8. A random letter pair scores about -3.2 bits on average and an English one +1.5; the
configuration-member check (is_configuration_member) uses the mean over a value's letter pairs.

    python3 state-scrubber/bench/bigrams.py > /tmp/table.rs   (then paste into english.rs)

The table in english.rs is a snapshot: docs edited since give slightly different numbers; rerun
the measurement (english::tests::configuration_member_rates) after pasting a new one.
"""
import glob
import math
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
files = sorted(glob.glob(os.path.join(REPO, "docs", "**", "*.md"), recursive=True))
files += [os.path.join(REPO, "README.md"), os.path.join(REPO, "state-scrubber", "README.md")]
cnt = [[0] * 26 for _ in range(26)]
for f in files:
    if not os.path.exists(f):
        continue
    for w in re.findall(r"[A-Za-z]+", open(f, encoding="utf-8", errors="replace").read()):
        w = w.lower()
        for a, b in zip(w, w[1:]):
            cnt[ord(a) - 97][ord(b) - 97] += 1
print("const BIGRAM: [[i8; 26]; 26] = [")
for a in range(26):
    tot = sum(cnt[a])
    row = [max(-128, min(127, round(8 * math.log2((cnt[a][b] + 0.5) / (tot + 13) * 26)))) for b in range(26)]
    print("    [" + ", ".join(str(x) for x in row) + "],")
print("];")
