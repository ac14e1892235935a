//! Small text helpers shared by the importers: folding for comparisons, Indonesian number
//! words.

/// Lower-cases, turns every run of non-alphanumeric characters into one space and trims:
/// `"Sistem, Mekanisme dan  Prosedur:"` becomes `"sistem mekanisme dan prosedur"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Collapses runs of whitespace into one space and trims.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when the text has letters and none of them is lower-case ("MASYARAKAT DATANG").
pub fn is_shouting(s: &str) -> bool {
    let mut letters = s.chars().filter(|c| c.is_alphabetic()).peekable();
    letters.peek().is_some() && letters.all(|c| !c.is_lowercase())
}

/// Share of words two texts have in common (Jaccard index of their folded word sets).
pub fn word_similarity(a: &str, b: &str) -> f64 {
    let a: std::collections::HashSet<String> =
        fold(a).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    let b: std::collections::HashSet<String> =
        fold(b).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.intersection(&b).count() as f64;
    common / (a.len() + b.len()) as f64 * 2.0
}

/// Reads an Indonesian number written in words at the start of `words` ("satu", "dua belas",
/// "empat puluh lima", "seratus"). Returns the value and how many words it used.
pub fn number_words(words: &[&str]) -> Option<(u32, usize)> {
    fn unit(w: &str) -> Option<u32> {
        Some(match w {
            "satu" => 1,
            "dua" => 2,
            "tiga" => 3,
            "empat" => 4,
            "lima" => 5,
            "enam" => 6,
            "tujuh" => 7,
            "delapan" => 8,
            "sembilan" => 9,
            _ => return None,
        })
    }
    let w = |i: usize| words.get(i).map(|s| s.to_lowercase());
    let first = w(0)?;
    match first.as_str() {
        "sepuluh" => return Some((10, 1)),
        "sebelas" => return Some((11, 1)),
        "seratus" => return Some((100, 1)),
        _ => {}
    }
    let u = unit(&first)?;
    match w(1).as_deref() {
        Some("belas") => Some((10 + u, 2)),
        Some("puluh") => match w(2).as_deref().and_then(unit) {
            Some(v) => Some((u * 10 + v, 3)),
            None => Some((u * 10, 2)),
        },
        Some("ratus") => Some((u * 100, 2)),
        _ => Some((u, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Sistem, Mekanisme dan  Prosedur:"), "sistem mekanisme dan prosedur");
        assert_eq!(fold("## Biaya / Tarif"), "biaya tarif");
        assert_eq!(fold("  "), "");
        assert!(is_shouting("MASYARAKAT DATANG 1."));
        assert!(!is_shouting("Masyarakat datang"));
        assert!(!is_shouting("123"));
        assert!(word_similarity("Masyarakat datang mengambil", "MASYARAKAT DATANG MENGAMBIL.") > 0.99);
        assert!(word_similarity("a b c d", "e f g h") < 0.01);
    }

    #[test]
    fn number_words_read() {
        let check = |s: &str, expected: Option<(u32, usize)>| {
            let words: Vec<&str> = s.split(' ').collect();
            assert_eq!(number_words(&words), expected, "{s}");
        };
        check("satu hari", Some((1, 1)));
        check("Empat belas hari", Some((14, 2)));
        check("dua puluh", Some((20, 2)));
        check("empat puluh lima menit", Some((45, 3)));
        check("sepuluh menit", Some((10, 1)));
        check("seratus", Some((100, 1)));
        check("hari", None);
    }
}
