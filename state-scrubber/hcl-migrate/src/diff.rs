//! A line diff (Myers, O(ND)) and unified-diff rendering.

/// One step of an edit script over lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Line `old` equals line `new`.
    Equal(usize, usize),
    /// Line `old` was removed.
    Delete(usize),
    /// Line `new` was added.
    Insert(usize),
}

/// Shortest edit script from `a` to `b`.
pub(crate) fn diff_lines(a: &[&str], b: &[&str]) -> Vec<Op> {
    let n = a.len() as isize;
    let m = b.len() as isize;
    let max = (n + m) as usize;
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    'outer: for d in 0..=max as isize {
        trace.push(v.clone());
        let mut k = -d;
        while k <= d {
            let idx = (k + offset) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx] = x;
            if x >= n && y >= m {
                break 'outer;
            }
            k += 2;
        }
    }
    // Walk the trace back from (n, m); trace[d] holds V as it was before step d.
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (0..trace.len() as isize).rev() {
        let v = &trace[d as usize];
        let k = x - y;
        let idx = (k + offset) as usize;
        let prev_k = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = v[(prev_k + offset) as usize];
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y && x > 0 && y > 0 {
            x -= 1;
            y -= 1;
            ops.push(Op::Equal(x as usize, y as usize));
        }
        if d == 0 {
            break;
        }
        if x == prev_x {
            y -= 1;
            ops.push(Op::Insert(y as usize));
        } else {
            x -= 1;
            ops.push(Op::Delete(x as usize));
        }
    }
    ops.reverse();
    ops
}

/// Renders a unified diff with `context` lines of context. `show_old`/`show_new` give the text to
/// print for a line (so the caller can redact); both return the line without its newline.
pub(crate) fn unified(
    old_name: &str,
    new_name: &str,
    old: &[&str],
    new: &[&str],
    context: usize,
    show_old: &dyn Fn(usize) -> String,
    show_new: &dyn Fn(usize) -> String,
) -> String {
    let ops = diff_lines(old, new);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Equal(..)))
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        return String::new();
    }
    // Group changes whose context windows touch.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let lo = i.saturating_sub(context);
        let hi = (i + context + 1).min(ops.len());
        match groups.last_mut() {
            Some((_, end)) if lo <= *end => *end = hi,
            _ => groups.push((lo, hi)),
        }
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for (lo, hi) in groups {
        let slice = &ops[lo..hi];
        let old_start = position(&ops, lo, true);
        let new_start = position(&ops, lo, false);
        let old_len = slice
            .iter()
            .filter(|op| !matches!(op, Op::Insert(_)))
            .count();
        let new_len = slice
            .iter()
            .filter(|op| !matches!(op, Op::Delete(_)))
            .count();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range_text(old_start, old_len),
            range_text(new_start, new_len)
        ));
        for op in slice {
            match *op {
                Op::Equal(i, _) => out.push_str(&format!(" {}\n", show_old(i))),
                Op::Delete(i) => out.push_str(&format!("-{}\n", show_old(i))),
                Op::Insert(j) => out.push_str(&format!("+{}\n", show_new(j))),
            }
        }
    }
    out
}

fn position(ops: &[Op], at: usize, old: bool) -> usize {
    let count = ops[..at]
        .iter()
        .filter(|op| match op {
            Op::Equal(..) => true,
            Op::Delete(_) => old,
            Op::Insert(_) => !old,
        })
        .count();
    count
}

fn range_text(start: usize, len: usize) -> String {
    // Unified diff: 1-based start; an empty range names the line before it.
    if len == 0 {
        format!("{start},0")
    } else if len == 1 {
        format!("{}", start + 1)
    } else {
        format!("{},{}", start + 1, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(a: &[&str], b: &[&str], ops: &[Op]) -> Vec<String> {
        let mut out = Vec::new();
        for op in ops {
            match *op {
                Op::Equal(i, j) => {
                    assert_eq!(a[i], b[j]);
                    out.push(a[i].to_owned());
                }
                Op::Insert(j) => out.push(b[j].to_owned()),
                Op::Delete(_) => {}
            }
        }
        out
    }

    #[test]
    fn scripts_rebuild_the_target() {
        let cases: [(&[&str], &[&str]); 5] = [
            (&[], &[]),
            (&["a"], &[]),
            (&[], &["a", "b"]),
            (&["a", "b", "c", "d"], &["a", "x", "c", "d", "e"]),
            (&["x", "a", "b", "a"], &["a", "b", "a", "x", "a"]),
        ];
        for (a, b) in cases {
            let ops = diff_lines(a, b);
            assert_eq!(
                apply(a, b, &ops),
                b.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            );
            let deletes = ops.iter().filter(|op| matches!(op, Op::Delete(_))).count();
            assert_eq!(ops.len() - deletes, b.len());
        }
    }

    #[test]
    fn unified_has_hunk_headers() {
        let a = ["a", "b", "c"];
        let b = ["a", "B", "c"];
        let text = unified("a/f", "b/f", &a, &b, 1, &|i| a[i].to_owned(), &|j| {
            b[j].to_owned()
        });
        assert_eq!(text, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    }
}
