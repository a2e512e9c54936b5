//! Password generation for `generate { ... }` and `ephemeral "offstate_password"`.
//!
//! The random source is `rand::rng()`: a ChaCha-based CSPRNG seeded and
//! periodically reseeded from the operating system. Every index (a character of
//! a set, a position of the shuffle) is drawn with [`Uniform`], which throws a
//! draw away and draws again when it cannot be spread evenly: exactly uniform,
//! no modulo bias. (`Rng::random_range` would not do: in rand 0.9 it uses
//! Canon's method, biased by up to one part in 2^64.) The required minimum of
//! each class is placed first, then the whole string is shuffled.

use offstate_common::SecretValue;
use offstate_framework::{Attribute, AttributePath, Block, Diagnostics, Type, Value};
use rand::distr::{Distribution, Uniform};
use rand::Rng;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &str = "0123456789";
/// The punctuation Secrets Manager's GetRandomPassword uses.
const SPECIAL: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The arguments of a password spec.
const SETTINGS: [&str; 11] = [
    "length",
    "lower",
    "upper",
    "numeric",
    "special",
    "min_lower",
    "min_upper",
    "min_numeric",
    "min_special",
    "override_special",
    "exclude_characters",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordSpec {
    pub length: usize,
    pub lower: bool,
    pub upper: bool,
    pub numeric: bool,
    pub special: bool,
    pub min_lower: usize,
    pub min_upper: usize,
    pub min_numeric: usize,
    pub min_special: usize,
    pub override_special: Option<String>,
    pub exclude_characters: String,
}

impl Default for PasswordSpec {
    fn default() -> Self {
        PasswordSpec {
            length: 32,
            lower: true,
            upper: true,
            numeric: true,
            special: true,
            min_lower: 0,
            min_upper: 0,
            min_numeric: 0,
            min_special: 0,
            override_special: None,
            exclude_characters: String::new(),
        }
    }
}

/// The attributes of a password spec, shared by the `generate` block and the
/// ephemeral password resource.
pub fn spec_attributes(mut b: Block) -> Block {
    b = b
        .attribute(
            Attribute::optional("length", Type::Number)
                .description("Length, 1 to 4096. Default 32."),
        )
        .attribute(
            Attribute::optional("lower", Type::Bool)
                .description("Use lowercase letters. Default true."),
        )
        .attribute(
            Attribute::optional("upper", Type::Bool)
                .description("Use uppercase letters. Default true."),
        )
        .attribute(
            Attribute::optional("numeric", Type::Bool).description("Use digits. Default true."),
        )
        .attribute(
            Attribute::optional("special", Type::Bool)
                .description("Use punctuation. Default true."),
        )
        .attribute(
            Attribute::optional("min_lower", Type::Number)
                .description("At least this many lowercase letters."),
        )
        .attribute(
            Attribute::optional("min_upper", Type::Number)
                .description("At least this many uppercase letters."),
        )
        .attribute(
            Attribute::optional("min_numeric", Type::Number)
                .description("At least this many digits."),
        )
        .attribute(
            Attribute::optional("min_special", Type::Number)
                .description("At least this many punctuation characters."),
        )
        .attribute(
            Attribute::optional("override_special", Type::String)
                .description("The punctuation to use instead of the default set."),
        )
        .attribute(
            Attribute::optional("exclude_characters", Type::String)
                .description("Characters never to use."),
        );
    b
}

/// Reads a spec from a config object; errors are attribute diagnostics under `at`.
///
/// At validate an argument may be unknown (an input variable, a value of another resource):
/// every setting that is known is still checked, and each rule that joins settings (the
/// minimums against the length, the characters left) is checked when the settings it reads
/// are known. No spec comes back then: there is nothing to generate with.
pub fn spec_from(v: &Value, at: &AttributePath, out: &mut Diagnostics) -> Option<PasswordSpec> {
    if v.is_unknown() {
        return None;
    }
    let unknown: Vec<&'static str> = SETTINGS
        .into_iter()
        .filter(|name| v.get(name).is_unknown())
        .collect();
    let d = PasswordSpec::default();
    let mut local = Diagnostics::new();
    let diags = &mut local;
    // A length is at least 1, a minimum at least 0; the message gives the range of the one
    // refused (`length = 4097` was told "from 0 to 4096", and `length = 0` then refused).
    let num = |name: &str, default: usize, diags: &mut Diagnostics| -> usize {
        let least = i64::from(name == "length");
        match v.get(name).as_number() {
            None => default,
            Some(n) => match n.as_i64() {
                Some(i) if (least..=4096).contains(&i) => i as usize,
                _ => {
                    diags.attr_error(
                        at.clone().then_attr(name),
                        "Invalid number",
                        format!("{name} must be a whole number from {least} to 4096."),
                    );
                    default
                }
            },
        }
    };
    let flag = |name: &str, default: bool| v.get(name).as_bool().unwrap_or(default);
    let spec = PasswordSpec {
        length: num("length", d.length, diags),
        lower: flag("lower", d.lower),
        upper: flag("upper", d.upper),
        numeric: flag("numeric", d.numeric),
        special: flag("special", d.special),
        min_lower: num("min_lower", 0, diags),
        min_upper: num("min_upper", 0, diags),
        min_numeric: num("min_numeric", 0, diags),
        min_special: num("min_special", 0, diags),
        override_special: v.get("override_special").as_str().map(str::to_string),
        exclude_characters: v
            .get("exclude_characters")
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    // An unknown setting reads as its default above, which no check below refuses on its own.
    if let Err((attr, why)) = spec.check_known(&unknown) {
        let path = match attr {
            Some(name) => at.clone().then_attr(name),
            None => at.clone(),
        };
        diags.attr_error(path, "Impossible password settings", why);
    }
    let ok = !local.has_errors() && unknown.is_empty();
    out.extend(local);
    ok.then_some(spec)
}

impl PasswordSpec {
    fn classes(&self) -> Vec<(Vec<char>, usize)> {
        // Each character once: a set given twice over (`override_special = "aaa!"`) would
        // otherwise be drawn more often.
        let keep = |set: &str| {
            let mut kept: Vec<char> = Vec::new();
            for c in set.chars() {
                if !self.exclude_characters.contains(c) && !kept.contains(&c) {
                    kept.push(c);
                }
            }
            kept
        };
        let special = self.override_special.as_deref().unwrap_or(SPECIAL);
        let mut out = Vec::new();
        if self.lower {
            out.push((keep(LOWER), self.min_lower));
        }
        if self.upper {
            out.push((keep(UPPER), self.min_upper));
        }
        if self.numeric {
            out.push((keep(NUMERIC), self.min_numeric));
        }
        if self.special {
            out.push((keep(special), self.min_special));
        }
        out
    }

    /// Why these settings cannot produce a password, if they cannot: the argument to blame
    /// (`None`: the settings together) and the reason.
    pub fn check(&self) -> Result<(), (Option<&'static str>, String)> {
        self.check_known(&[])
    }

    /// [`Self::check`] with the settings named in `unknown` not known yet (each holds its
    /// default here). An unknown flag reads as on, an unknown minimum as 0: a minimum of a class
    /// turned off is then not seen, and an unknown flag whose class could leave no characters
    /// or miss its minimum is refused either way (off: its minimum is refused). The characters
    /// left are judged only with `override_special` and `exclude_characters` known, the
    /// minimums against the length only with the length and every minimum known.
    fn check_known(&self, unknown: &[&str]) -> Result<(), (Option<&'static str>, String)> {
        let known = |names: &[&str]| names.iter().all(|n| !unknown.contains(n));
        if self.length == 0 {
            return Err((Some("length"), "length must be at least 1.".into()));
        }
        // A minimum of a class that is turned off was ignored: `numeric = false` with
        // `min_numeric = 2` made passwords without a digit.
        for (on, min, class, min_name) in [
            (self.lower, self.min_lower, "lower", "min_lower"),
            (self.upper, self.min_upper, "upper", "min_upper"),
            (self.numeric, self.min_numeric, "numeric", "min_numeric"),
            (self.special, self.min_special, "special", "min_special"),
        ] {
            if !on && min > 0 {
                return Err((
                    Some(min_name),
                    format!("{min_name} is {min} but {class} is false: turn {class} on or drop {min_name}."),
                ));
            }
        }
        let classes = self.classes();
        if !known(&["override_special", "exclude_characters"]) {
            // The characters left are not known.
        } else if classes.iter().all(|(set, _)| set.is_empty()) {
            return Err((None, "no characters are left to choose from: enable a character class or exclude fewer characters.".into()));
        } else if let Some((_, min)) = classes.iter().find(|(set, min)| set.is_empty() && *min > 0)
        {
            return Err((
                None,
                format!(
                    "a minimum of {min} is asked of a character class with no characters left."
                ),
            ));
        }
        let mins: usize = classes.iter().map(|(_, m)| m).sum();
        let sum_known = known(&[
            "length",
            "min_lower",
            "min_upper",
            "min_numeric",
            "min_special",
        ]);
        if sum_known && mins > self.length {
            return Err((
                None,
                format!(
                    "the minimums add up to {mins}, more than the length {}.",
                    self.length
                ),
            ));
        }
        Ok(())
    }

    /// Every character a password may hold, each once (an `override_special` that repeats a
    /// letter does not make that letter likelier).
    fn alphabet(classes: &[(Vec<char>, usize)]) -> Vec<char> {
        let mut all: Vec<char> = Vec::new();
        for c in classes.iter().flat_map(|(set, _)| set.iter().copied()) {
            if !all.contains(&c) {
                all.push(c);
            }
        }
        all
    }

    pub fn generate(&self) -> SecretValue {
        self.generate_with(&mut rand::rng())
    }

    fn generate_with<R: Rng + ?Sized>(&self, rng: &mut R) -> SecretValue {
        let classes = self.classes();
        let all = Self::alphabet(&classes);
        let mut out = zeroize::Zeroizing::new(Vec::<char>::with_capacity(self.length));
        for (set, min) in &classes {
            for _ in 0..*min {
                out.push(set[index(rng, set.len())]);
            }
        }
        while out.len() < self.length {
            out.push(all[index(rng, all.len())]);
        }
        // Fisher-Yates, each position drawn by `index` as well.
        for i in (1..out.len()).rev() {
            out.swap(i, index(rng, i + 1));
        }
        // Sized first: collecting reserves a byte per character, and a String that outgrows it
        // reallocates, freeing the shorter buffer with the password's start unzeroed.
        let mut password = String::with_capacity(out.iter().map(|c| c.len_utf8()).sum());
        password.extend(out.iter());
        SecretValue::from_string(password)
    }
}

/// The value of a `generate` block with a `json_template`: the template's fields and `password`
/// under `key`, as compact JSON (keys in order). No copy of the password is freed unzeroed: the
/// object's strings are zeroed and the text is written into a buffer of its exact size.
pub fn with_template(
    template: std::collections::BTreeMap<String, String>,
    key: &str,
    password: &SecretValue,
) -> SecretValue {
    let mut obj: serde_json::Map<String, serde_json::Value> = template
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let mut copy = String::with_capacity(password.expose_secret().len());
    copy.push_str(password.expose_str().unwrap_or_default());
    obj.insert(key.to_string(), serde_json::Value::String(copy));
    SecretValue::from_json(serde_json::Value::Object(obj))
}

/// A uniformly random index below `n` (`n > 0`: [`PasswordSpec::check`] leaves no empty set
/// to draw from), by rejection: see the module's documentation.
fn index<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    Uniform::new(0, n)
        .expect("a set to draw from is never empty")
        .sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_character_is_drawn_from_once() {
        let spec = PasswordSpec {
            override_special: Some("aaa!!b".to_string()),
            ..PasswordSpec::default()
        };
        let classes = spec.classes();
        for (set, _) in &classes {
            let mut unique = set.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), set.len(), "{set:?}");
        }
        let all = PasswordSpec::alphabet(&classes);
        assert_eq!(all.iter().filter(|c| **c == 'a').count(), 1);
        assert_eq!(all.iter().filter(|c| **c == '!').count(), 1);
        assert_eq!(
            all.len(),
            26 + 26 + 10 + 1,
            "a and b are letters already; ! is new"
        );
    }

    #[test]
    fn respects_classes_minimums_and_exclusions() {
        let spec = PasswordSpec {
            length: 40,
            special: false,
            min_upper: 5,
            min_numeric: 5,
            exclude_characters: "0O1lI".into(),
            ..Default::default()
        };
        for _ in 0..200 {
            let p = spec.generate();
            let s = p.expose_str().unwrap();
            assert_eq!(s.chars().count(), 40);
            assert!(s.chars().filter(char::is_ascii_uppercase).count() >= 5);
            assert!(s.chars().filter(char::is_ascii_digit).count() >= 5);
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
            assert!(!s.contains(['0', 'O', '1', 'l', 'I']));
        }
    }

    /// Words of a scripted random source, in order.
    struct Scripted(std::collections::VecDeque<u32>);

    impl rand::RngCore for Scripted {
        fn next_u32(&mut self) -> u32 {
            self.0.pop_front().expect("the script ran out")
        }
        fn next_u64(&mut self) -> u64 {
            u64::from(self.next_u32()) << 32 | u64::from(self.next_u32())
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            for chunk in dst.chunks_mut(4) {
                chunk.copy_from_slice(&self.next_u32().to_le_bytes()[..chunk.len()]);
            }
        }
    }

    /// No modulo bias: 2^32 words cannot be spread evenly over 10 digits, so a word that falls
    /// in the uneven part is thrown away and another drawn. Word 0 is such a word for 10
    /// (Lemire's multiply: the low half of 0 * 10 is below 2^32 mod 10 = 6); the next word,
    /// u32::MAX, is the last digit. `random_range` (Canon's method) took word 0 for '0'.
    #[test]
    fn a_draw_that_cannot_be_spread_evenly_is_drawn_again() {
        let digit = PasswordSpec {
            length: 1,
            lower: false,
            upper: false,
            special: false,
            ..PasswordSpec::default()
        };
        let mut rng = Scripted([0, u32::MAX].into());
        let pw = digit.generate_with(&mut rng);
        assert_eq!(pw.expose_str().unwrap(), "9");
        assert!(rng.0.is_empty(), "both words were drawn");
        // A word that can be spread evenly is taken as it is: one word, one digit.
        let mut rng = Scripted([u32::MAX / 2].into());
        assert_eq!(digit.generate_with(&mut rng).expose_str().unwrap(), "4");
    }

    /// Every position of the shuffle is drawn: a scripted source that runs out proves the
    /// count, and each class's minimum is still there after it.
    #[test]
    fn the_shuffle_moves_the_minimums() {
        let spec = PasswordSpec {
            length: 3,
            lower: false,
            upper: false,
            special: false,
            min_numeric: 3,
            ..PasswordSpec::default()
        };
        // Three digits (0, 5, 9), then the shuffle's two swaps: i = 2 with index 0, i = 1 with 0.
        let words = [
            0x0000_0001,
            u32::MAX / 2 + 2,
            u32::MAX,
            0x0000_0001,
            0x0000_0001,
        ];
        let mut rng = Scripted(words.into());
        let pw = spec.generate_with(&mut rng);
        assert!(rng.0.is_empty(), "{} words left", rng.0.len());
        assert_eq!(pw.expose_str().unwrap(), "590");
    }

    /// A minimum of a class that is turned off is refused on the minimum: it was ignored, and
    /// `numeric = false, min_numeric = 2` made passwords without a digit.
    #[test]
    fn a_minimum_of_a_class_turned_off_is_refused_on_the_minimum() {
        let mut d = Diagnostics::new();
        let config = Value::object([
            ("numeric", Value::Bool(false)),
            (
                "min_numeric",
                Value::Number(offstate_framework::value::Number::Int(2)),
            ),
        ]);
        assert!(spec_from(&config, &AttributePath::attr("generate"), &mut d).is_none());
        let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{d:?}");
        assert_eq!(
            errors[0].attribute,
            Some(AttributePath::attr("generate").then_attr("min_numeric"))
        );
        assert!(errors[0].detail.contains("numeric is false"), "{d:?}");
        for (flag, min) in [
            ("lower", "min_lower"),
            ("upper", "min_upper"),
            ("special", "min_special"),
        ] {
            let mut d = Diagnostics::new();
            let config = Value::object([
                (flag, Value::Bool(false)),
                (
                    min,
                    Value::Number(offstate_framework::value::Number::Int(1)),
                ),
            ]);
            assert!(
                spec_from(&config, &AttributePath::root(), &mut d).is_none(),
                "{flag}"
            );
        }
        // Off with no minimum, or on with one: fine.
        let ok = PasswordSpec {
            numeric: false,
            ..PasswordSpec::default()
        };
        assert!(ok.check().is_ok());
        let ok = PasswordSpec {
            min_numeric: 2,
            ..PasswordSpec::default()
        };
        assert!(ok.check().is_ok());
    }

    /// At validate an input variable is unknown: the settings that are known are still checked,
    /// each on its argument (all were skipped when any one was unknown), and a rule joining
    /// settings only when the ones it reads are known.
    #[test]
    fn known_settings_are_checked_when_others_are_unknown() {
        use offstate_framework::value::Number;
        let n = |i: i64| Value::Number(Number::Int(i));
        let s = Value::string;
        let u = || Value::Unknown;
        let at = AttributePath::attr("generate");
        // (settings, the argument blamed: Some("") for the settings together, None for no error)
        type Case<'a> = (Vec<(&'a str, Value)>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (vec![("length", n(5000)), ("special", u())], Some("length")),
            (
                vec![("length", n(0)), ("override_special", u())],
                Some("length"),
            ),
            (
                vec![("min_upper", n(-1)), ("length", u())],
                Some("min_upper"),
            ),
            (
                vec![
                    ("numeric", Value::Bool(false)),
                    ("min_numeric", n(2)),
                    ("length", u()),
                ],
                Some("min_numeric"),
            ),
            (
                vec![
                    ("length", n(4)),
                    ("min_lower", n(3)),
                    ("min_upper", n(3)),
                    ("upper", u()),
                ],
                Some(""),
            ),
            (
                vec![
                    ("lower", Value::Bool(false)),
                    ("upper", Value::Bool(false)),
                    ("numeric", Value::Bool(false)),
                    ("special", Value::Bool(false)),
                    ("length", u()),
                ],
                Some(""),
            ),
            (
                vec![
                    ("override_special", s("")),
                    ("min_special", n(1)),
                    ("length", u()),
                ],
                Some(""),
            ),
            // An unknown flag: off, its minimum is refused; on, the class has no characters.
            (
                vec![
                    ("override_special", s("")),
                    ("min_special", n(1)),
                    ("special", u()),
                ],
                Some(""),
            ),
            // The sum needs the length and every minimum.
            (
                vec![("length", u()), ("min_lower", n(3)), ("min_upper", n(3))],
                None,
            ),
            (
                vec![("length", n(4)), ("min_lower", n(3)), ("min_upper", u())],
                None,
            ),
            // The characters left need override_special and exclude_characters.
            (
                vec![
                    ("exclude_characters", s(LOWER)),
                    ("upper", Value::Bool(false)),
                    ("numeric", Value::Bool(false)),
                    ("override_special", u()),
                ],
                None,
            ),
            (
                vec![
                    ("override_special", s("")),
                    ("min_special", n(1)),
                    ("exclude_characters", u()),
                ],
                None,
            ),
            // A minimum of a class turned off needs both known.
            (vec![("numeric", u()), ("min_numeric", n(2))], None),
            (
                vec![("numeric", Value::Bool(false)), ("min_numeric", u())],
                None,
            ),
            (
                vec![("length", n(20)), ("special", u()), ("min_special", u())],
                None,
            ),
        ];
        for (pairs, blamed) in cases {
            let config = Value::object(pairs.clone());
            let mut d = Diagnostics::new();
            assert!(
                spec_from(&config, &at, &mut d).is_none(),
                "{pairs:?}: no spec with an unknown"
            );
            let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
            match blamed {
                None => assert!(errors.is_empty(), "{pairs:?}: {d:?}"),
                Some(name) => {
                    let want = if name.is_empty() {
                        at.clone()
                    } else {
                        at.clone().then_attr(name)
                    };
                    assert_eq!(errors.len(), 1, "{pairs:?}: {d:?}");
                    assert_eq!(errors[0].attribute, Some(want), "{pairs:?}: {d:?}");
                }
            }
        }
        // The block itself unknown: nothing to check, no spec.
        let mut d = Diagnostics::new();
        assert!(spec_from(&Value::Unknown, &at, &mut d).is_none());
        assert!(d.is_empty(), "{d:?}");
        // All known and fine: a spec.
        let mut d = Diagnostics::new();
        let spec = spec_from(&Value::object([("length", n(20))]), &at, &mut d);
        assert_eq!(spec.map(|s| s.length), Some(20), "{d:?}");
    }

    #[test]
    fn two_passwords_differ() {
        let spec = PasswordSpec::default();
        assert!(!spec.generate().ct_eq(&spec.generate()));
    }

    #[test]
    fn impossible_settings_are_explained() {
        let s = PasswordSpec {
            length: 4,
            min_lower: 3,
            min_upper: 3,
            ..Default::default()
        };
        assert!(s.check().unwrap_err().1.contains("minimums"));
        let s = PasswordSpec {
            lower: false,
            upper: false,
            numeric: false,
            special: false,
            ..Default::default()
        };
        assert!(s.check().is_err());
        let s = PasswordSpec {
            numeric: true,
            min_numeric: 1,
            exclude_characters: NUMERIC.into(),
            ..Default::default()
        };
        assert!(s.check().is_err());
    }
}
