//! Who issued a standard and how to reach them: the issuing office from the letterhead, and the
//! complaint channels with the emails, websites and phone numbers found in their text.

use super::text::{Item, Line};
use crate::catalog::model::{ComplaintChannel, ContactKind, IssuingOffice};
use crate::text::{fold, squash};

/// Reads the issuing office from the letterhead lines.
pub(super) fn parse_issuer(letterhead: &[Line]) -> IssuingOffice {
    // Join lines continued by a hard break ("... Kota  " + "Denpasar").
    let mut joined: Vec<String> = Vec::new();
    let mut continue_previous = false;
    for line in letterhead {
        if continue_previous {
            if let Some(last) = joined.last_mut() {
                last.push(' ');
                last.push_str(&line.text);
            }
        } else {
            joined.push(line.text.clone());
        }
        continue_previous = line.hard_break;
    }
    let mut office = IssuingOffice::default();
    let mut address_parts: Vec<String> = Vec::new();
    for (i, text) in joined.iter().enumerate() {
        let folded = fold(text);
        if i == 0 {
            office.agency = text.clone();
        } else if folded.starts_with("pemerintah") && text.contains('/') {
            let (government, agency) = text.split_once('/').expect("contains /");
            office.government = Some(squash(government));
            let agency = squash(agency);
            if agency.len() >= office.agency.len() {
                office.agency = agency;
            }
        } else if office.website.is_none() && looks_like_website(text) {
            office.website = Some(text.clone());
        } else {
            address_parts.push(text.clone());
        }
    }
    if !address_parts.is_empty() {
        let mut words: Vec<String> = address_parts.join(" ").split_whitespace().map(str::to_string).collect();
        if words.last().is_some_and(|w| is_phone_token(w)) {
            office.phone = words.pop();
        }
        if words.last().is_some_and(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit())) {
            office.postal_code = words.pop();
        }
        let address = words.join(" ");
        if !address.is_empty() {
            office.address = Some(address);
        }
    }
    office
}

pub(super) fn looks_like_website(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    !t.contains(' ')
        && (t.starts_with("http")
            || t.starts_with("www.")
            || t.contains(".go.id")
            || t.contains(".id/")
            || t.ends_with(".id"))
}

pub(super) fn is_phone_token(w: &str) -> bool {
    let digits = w.chars().filter(char::is_ascii_digit).count();
    (w.starts_with('0') || w.starts_with('+') || w.starts_with('('))
        && (9..=15).contains(&digits)
        && w.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')' | '.'))
}

pub(super) fn channel(group: Option<String>, item: &Item) -> ComplaintChannel {
    let details = item.child_texts();
    let all = item.all_text();
    let emails = find_emails(&all);
    let urls = find_urls(&all);
    let phones = find_phones(&all);
    let f = format!(" {} ", fold(&all));
    let has = |w: &str| f.contains(&format!(" {w} "));
    let kind = if has("lapor") || has("sp4n") {
        ContactKind::Lapor
    } else if has("whatsapp") || has("wa") {
        ContactKind::WhatsApp
    } else if has("kotak saran") || has("kotak pengaduan") || has("kotak") {
        ContactKind::SuggestionBox
    } else if has("skm") || has("survei kepuasan") || has("survey kepuasan") {
        ContactKind::Survey
    } else if has("facebook")
        || has("instagram")
        || has("twitter")
        || has("media sosial")
        || has("tiktok")
        || has("tik tok")
    {
        ContactKind::SocialMedia
    } else if !emails.is_empty() || has("email") || has("e mail") {
        ContactKind::Email
    } else if has("kantor") {
        ContactKind::InPerson
    } else if !urls.is_empty() || has("website") || has("web") || has("aplikasi") || has("situs") {
        ContactKind::Website
    } else if !phones.is_empty() || has("telp") || has("telepon") || has("hp") || has("sms") {
        ContactKind::Phone
    } else if has("petugas") || has("langsung") || has("loket") || has("datang") {
        ContactKind::InPerson
    } else {
        ContactKind::Other
    };
    ComplaintChannel { group, text: item.text.clone(), details, kind, emails, urls, phones }
}

pub(super) fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']'))
        .map(|t| t.trim_matches(|c: char| matches!(c, '.' | ':' | '!' | '?' | '"' | '\'')))
        .filter(|t| !t.is_empty())
}

pub(super) fn find_emails(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(text) {
        let Some((local, domain)) = t.split_once('@') else { continue };
        let ok_local = !local.is_empty() && local.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
        let ok_domain = domain.contains('.')
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
            && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2);
        if ok_local && ok_domain && !out.iter().any(|e| e.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    out
}

pub(super) fn find_urls(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(text) {
        let lower = t.to_lowercase();
        if (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www."))
            && t.len() > 8
            && !out.iter().any(|u| u.eq_ignore_ascii_case(t))
        {
            out.push(t.to_string());
        }
    }
    out
}

pub(super) fn find_phones(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let candidate = current.trim().trim_matches(['-', '.', ' ']).to_string();
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        let starts_ok = candidate.starts_with('0') || candidate.starts_with('+') || candidate.starts_with('(');
        // Numbers are written in groups of two or more digits; "000.8.3.4" is a decree number.
        let grouped = candidate.split([' ', '-', '.']).all(|g| g.chars().filter(char::is_ascii_digit).count() != 1);
        if (6..=15).contains(&digits) && (starts_ok || digits == 6) && grouped && !out.contains(&candidate) {
            out.push(candidate);
        }
        current.clear();
    };
    let mut previous: Option<char> = None;
    for c in text.chars() {
        let joins = c.is_ascii_digit()
            || (matches!(c, '-' | ' ' | '(' | ')' | '+' | '.') && (!current.is_empty() || c == '(' || c == '+'));
        // A digit glued to a letter ("F1", "2072/Disdukcapil") is not part of a number.
        if c.is_ascii_digit() && current.is_empty() && previous.is_some_and(|p| p.is_alphanumeric()) {
            previous = Some(c);
            continue;
        }
        if joins {
            current.push(c);
        } else {
            flush(&mut current, &mut out);
        }
        previous = Some(c);
    }
    flush(&mut current, &mut out);
    out
}
