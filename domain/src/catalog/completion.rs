//! Completion time (waktu penyelesaian): a typed duration read from phrases such as "1 Hari
//! kerja", "10 Menit", "14 (empat belas) hari kerja" or "satu hari kerja", with the condition
//! text kept ("if the data network is not disrupted").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::number_words;

/// How long a service may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionTime {
    /// Working days: weekends and holidays do not count.
    WorkingDays(u16),
    /// Calendar days.
    CalendarDays(u16),
    /// Minutes (hours are stored as minutes; 0 means done while the applicant waits).
    Minutes(u32),
}

impl fmt::Display for CompletionTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompletionTime::WorkingDays(n) => write!(f, "{n} hari kerja"),
            CompletionTime::CalendarDays(n) => write!(f, "{n} hari"),
            CompletionTime::Minutes(0) => write!(f, "langsung (saat itu juga)"),
            CompletionTime::Minutes(n) if n % 60 == 0 && *n >= 60 => write!(f, "{} jam", n / 60),
            CompletionTime::Minutes(n) => write!(f, "{n} menit"),
        }
    }
}

/// The completion time of a standard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The duration understood.
    pub time: CompletionTime,
    /// The phrase it was read from, as published ("1 Hari kerja").
    pub stated: String,
    /// The condition attached to it, as published, when there is one.
    pub condition: Option<String>,
}

fn strip_punct(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

/// Phrases that mean "done while the applicant waits".
const IMMEDIATE: [&str; 6] = [
    "langsung jadi",
    "langsung selesai",
    "saat itu juga",
    "selesai di tempat",
    "selesai ditempat",
    "pada hari itu juga",
];

/// Finds the first duration in a line of text. Returns it with the byte range of the phrase.
/// "Langsung jadi" and similar phrases are zero minutes: done while the applicant waits.
pub fn parse_completion_time(text: &str) -> Option<(CompletionTime, std::ops::Range<usize>)> {
    // ASCII lower-casing keeps byte offsets, so ranges found here index `text` too.
    let lower = text.to_ascii_lowercase();
    let immediate = IMMEDIATE.iter().filter_map(|p| lower.find(p).map(|at| (at, at + p.len()))).min();
    let timed = parse_duration(text);
    match (immediate, timed) {
        (Some((start, end)), Some((_, range))) if start < range.start => Some((CompletionTime::Minutes(0), start..end)),
        (Some((start, end)), None) => Some((CompletionTime::Minutes(0), start..end)),
        (_, timed) => timed,
    }
}

fn parse_duration(text: &str) -> Option<(CompletionTime, std::ops::Range<usize>)> {
    // Split into words, remembering where each starts and ends.
    let mut words: Vec<(usize, usize, String)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                words.push((s, i, text[s..i].to_string()));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        words.push((s, text.len(), text[s..].to_string()));
    }
    let plain: Vec<String> = words.iter().map(|(_, _, w)| strip_punct(w)).collect();

    for i in 0..words.len() {
        // "sehari", "sejam", "seminggu", "sebulan": one unit in one word.
        let (value, mut next, prefixed_unit) = match plain[i].as_str() {
            "sehari" => (1u32, i + 1, Some("hari")),
            "sejam" => (1, i + 1, Some("jam")),
            "seminggu" => (1, i + 1, Some("minggu")),
            "sebulan" => (1, i + 1, Some("bulan")),
            w => {
                if let Ok(n) = w.parse::<u32>() {
                    if words[i].2.chars().filter(|c| c.is_ascii_digit()).count() > 5 {
                        continue;
                    }
                    (n, i + 1, None)
                } else {
                    let rest: Vec<&str> = plain[i..].iter().map(String::as_str).collect();
                    match number_words(&rest) {
                        Some((n, used)) => (n, i + used, None),
                        None => continue,
                    }
                }
            }
        };
        let unit: String = match prefixed_unit {
            Some(u) => u.to_string(),
            None => {
                // Skip a spelled-out echo in brackets: "14 (empat belas) hari kerja".
                if words.get(next).is_some_and(|w| w.2.starts_with('(')) {
                    while next < words.len() && !words[next].2.contains(')') {
                        next += 1;
                    }
                    next += 1;
                }
                // "1 x 24 jam" means twenty-four hours.
                if plain.get(next).is_some_and(|w| w == "x")
                    && let Some(m) = plain.get(next + 1).and_then(|w| w.parse::<u32>().ok())
                    && plain.get(next + 2).is_some_and(|w| w == "jam")
                {
                    let end = words[next + 2].1;
                    let minutes = value.saturating_mul(m).saturating_mul(60);
                    return Some((CompletionTime::Minutes(minutes), words[i].0..end));
                }
                match plain.get(next) {
                    Some(u) => u.clone(),
                    None => continue,
                }
            }
        };
        let unit_end = if prefixed_unit.is_some() { i } else { next };
        let working = plain.get(unit_end + 1).is_some_and(|w| w == "kerja");
        let end_word = if working { unit_end + 1 } else { unit_end };
        let range = words[i].0..words[end_word.min(words.len() - 1)].1;
        let days = |n: u32| u16::try_from(n).ok();
        let time = match unit.as_str() {
            "menit" | "mnt" => CompletionTime::Minutes(value),
            "jam" => CompletionTime::Minutes(value.saturating_mul(60)),
            "hari" if working => CompletionTime::WorkingDays(days(value)?),
            "hari" | "hr" => CompletionTime::CalendarDays(days(value)?),
            "hk" => CompletionTime::WorkingDays(days(value)?),
            "minggu" | "pekan" => CompletionTime::CalendarDays(days(value.saturating_mul(7))?),
            "bulan" => CompletionTime::CalendarDays(days(value.saturating_mul(30))?),
            _ => continue,
        };
        if value == 0 {
            continue;
        }
        return Some((time, range));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<(CompletionTime, &str)>) {
        let got = parse_completion_time(input).map(|(t, r)| (t, &input[r]));
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn table_of_phrases() {
        use CompletionTime::*;
        check("1 Hari kerja", Some((WorkingDays(1), "1 Hari kerja")));
        check("10 Menit", Some((Minutes(10), "10 Menit")));
        check("1 Hari", Some((CalendarDays(1), "1 Hari")));
        check("14 (empat belas) hari kerja", Some((WorkingDays(14), "14 (empat belas) hari kerja")));
        check("Paling lama 3 hari kerja setelah berkas lengkap", Some((WorkingDays(3), "3 hari kerja")));
        check("adalah satu hari kerja. Produk", Some((WorkingDays(1), "satu hari kerja.")));
        check("Empat puluh lima menit", Some((Minutes(45), "Empat puluh lima menit")));
        check("2 Jam", Some((Minutes(120), "2 Jam")));
        check("1 x 24 jam", Some((Minutes(1440), "1 x 24 jam")));
        check("Sehari", Some((CalendarDays(1), "Sehari")));
        check("1 minggu", Some((CalendarDays(7), "1 minggu")));
        check("7 HK", Some((WorkingDays(7), "7 HK")));
        check("Langsung jadi", Some((Minutes(0), "Langsung jadi")));
        check("Selesai di tempat apabila berkas lengkap", Some((Minutes(0), "Selesai di tempat")));
        check("10 menit, langsung jadi", Some((Minutes(10), "10 menit,")));
        check("Sesuai ketentuan", None);
        check("0 menit", None);
        check("", None);
        check("99999999999999 hari", None);
    }
}
