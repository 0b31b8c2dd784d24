//! "Did you mean …?": the closest names to a mistyped one.
//!
//! Why one module at the root: the evaluator (members, keywords, variables), the unit
//! property tables and the command runner all suggest names, and they must agree on what
//! "close" means. It depends on nothing, so every layer may use it.

/// Levenshtein distance over characters (the first 64 of `a`: names are short, and a huge
/// word must not cost a huge table).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().take(64).enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `" (did you mean MainPID?)"` for the closest candidate, or "".
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    if name.chars().count() < 3 {
        return String::new();
    }
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c.len() > 64 {
            continue;
        }
        let d = if c.to_lowercase() == lower {
            0
        } else {
            edit_distance(&lower, &c.to_lowercase())
        };
        if d <= name.len().div_ceil(3) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!(" (did you mean {c}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_names() {
        let c = ["MainPID", "ControlPID", "Type"];
        assert_eq!(
            did_you_mean("MainPIX", c.iter().copied()),
            " (did you mean MainPID?)"
        );
        assert_eq!(
            did_you_mean("mainpid", c.iter().copied()),
            " (did you mean MainPID?)"
        );
        assert_eq!(did_you_mean("Zzzzzz", c.iter().copied()), "");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
