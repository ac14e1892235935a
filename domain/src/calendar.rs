//! The service-level calendar: office hours, weekends, national holidays and cuti bersama (as
//! imported data), and the due time of a service from its completion time.
//!
//! A completion time is a budget. Working days and minutes are spent only during office hours on
//! working days (one working day is one full day of office hours); calendar days are spent around
//! the clock. Time waiting on the national centre is paused and not spent. Everything here is in
//! the office's local time; the caller converts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time, Weekday};

use crate::catalog::CompletionTime;

/// What kind of day off a holiday is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// Hari libur nasional.
    National,
    /// Cuti bersama (collective leave set with the national holidays).
    CutiBersama,
    /// A regional day off set by the regency (e.g. Galungan in Bali).
    Regional,
}

/// One day off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The date.
    pub date: Date,
    /// Its name ("Hari Suci Nyepi").
    pub name: String,
    /// Its kind.
    pub kind: HolidayKind,
}

/// A problem in a holiday list, with its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HolidayListError {
    /// Line (1-based, the header is line 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a holiday list: CSV `tanggal,nama,jenis` with dates as YYYY-MM-DD and `jenis` one of
/// `libur_nasional`, `cuti_bersama`, `libur_daerah`.
pub fn parse_holiday_list(text: &str) -> Result<Vec<Holiday>, Vec<HolidayListError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut holidays: Vec<Holiday> = Vec::new();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut header = false;
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(HolidayListError { line, message: format!("unreadable CSV: {e}") });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if !header {
            header = true;
            let fields: Vec<String> = record.iter().map(str::to_lowercase).collect();
            if fields != ["tanggal", "nama", "jenis"] {
                errors.push(HolidayListError { line, message: "the first line must be 'tanggal,nama,jenis'".into() });
                break;
            }
            continue;
        }
        if record.len() != 3 {
            errors.push(HolidayListError { line, message: format!("expected 3 fields, found {}", record.len()) });
            continue;
        }
        let date = match Date::parse(&record[0], &format) {
            Ok(d) => d,
            Err(_) => {
                errors.push(HolidayListError { line, message: format!("'{}' is not a date (YYYY-MM-DD)", &record[0]) });
                continue;
            }
        };
        let kind = match record[2].to_lowercase().as_str() {
            "libur_nasional" => HolidayKind::National,
            "cuti_bersama" => HolidayKind::CutiBersama,
            "libur_daerah" => HolidayKind::Regional,
            other => {
                errors.push(HolidayListError {
                    line,
                    message: format!("'{other}' is not libur_nasional, cuti_bersama or libur_daerah"),
                });
                continue;
            }
        };
        let name = record[1].to_string();
        if name.is_empty() {
            errors.push(HolidayListError { line, message: "the holiday has no name".into() });
            continue;
        }
        if holidays.iter().any(|h| h.date == date) {
            errors.push(HolidayListError { line, message: format!("{date} appears twice") });
            continue;
        }
        holidays.push(Holiday { date, name, kind });
    }
    if !header {
        errors.push(HolidayListError { line: 1, message: "the file is empty".into() });
    }
    if errors.is_empty() { Ok(holidays) } else { Err(errors) }
}

/// Office hours and days off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// When the counters open.
    pub opens: Time,
    /// When they close.
    pub closes: Time,
    /// Days the office is closed every week.
    pub weekend: Vec<Weekday>,
    /// Holidays and cuti bersama by date.
    pub holidays: BTreeMap<Date, Holiday>,
}

impl Default for Calendar {
    /// Monday to Friday, 08:00-16:00, no holidays.
    fn default() -> Self {
        Calendar {
            opens: Time::from_hms(8, 0, 0).expect("valid"),
            closes: Time::from_hms(16, 0, 0).expect("valid"),
            weekend: vec![Weekday::Saturday, Weekday::Sunday],
            holidays: BTreeMap::new(),
        }
    }
}

/// A stretch of local time during which the SLA clock stood still.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// From.
    pub from: PrimitiveDateTime,
    /// Until; `None` while still paused.
    pub until: Option<PrimitiveDateTime>,
}

/// Where an application stands against its due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlaStatus {
    /// Plenty of budget left.
    OnTrack,
    /// Due on the day of `now`.
    DueToday,
    /// Less than a fifth of the budget left.
    AboutToBreach,
    /// Past due.
    Late,
    /// The clock is stopped (waiting on the centre).
    Paused,
}

impl Calendar {
    /// With these holidays.
    pub fn with_holidays(holidays: impl IntoIterator<Item = Holiday>) -> Calendar {
        Calendar { holidays: holidays.into_iter().map(|h| (h.date, h)).collect(), ..Calendar::default() }
    }

    /// True when the office opens on `date`.
    pub fn is_working_day(&self, date: Date) -> bool {
        !self.weekend.contains(&date.weekday()) && !self.holidays.contains_key(&date)
    }

    /// The length of one working day.
    pub fn day_length(&self) -> Duration {
        self.closes - self.opens
    }

    /// The budget a completion time gives, and whether it runs only in office hours.
    fn budget(&self, time: CompletionTime) -> (Duration, bool) {
        match time {
            CompletionTime::WorkingDays(n) => (self.day_length() * i32::from(n), true),
            CompletionTime::Minutes(n) => (Duration::minutes(i64::from(n)), true),
            CompletionTime::CalendarDays(n) => (Duration::days(i64::from(n)), false),
        }
    }

    /// The office-hours window of `date`, if it is a working day.
    fn window(&self, date: Date) -> Option<(PrimitiveDateTime, PrimitiveDateTime)> {
        self.is_working_day(date).then(|| (date.with_time(self.opens), date.with_time(self.closes)))
    }

    /// How much countable time lies in `[from, to)`, leaving out pauses.
    pub fn spent(
        &self,
        time: CompletionTime,
        from: PrimitiveDateTime,
        to: PrimitiveDateTime,
        pauses: &[Pause],
    ) -> Duration {
        if to <= from {
            return Duration::ZERO;
        }
        let (_, office_hours) = self.budget(time);
        let mut total = Duration::ZERO;
        let mut day = from.date();
        while day <= to.date() {
            let (start, end) = if office_hours {
                match self.window(day) {
                    Some(w) => w,
                    None => {
                        day = day.next_day().expect("date in range");
                        continue;
                    }
                }
            } else {
                (day.midnight(), day.next_day().expect("date in range").midnight())
            };
            let (start, end) = (start.max(from), end.min(to));
            if end > start {
                total += end - start - paused_within(pauses, start, end, to);
            }
            day = day.next_day().expect("date in range");
        }
        total
    }

    /// When the budget of `time` runs out for an application started at `start`, given the
    /// pauses so far (an open pause pushes the due time out of sight: `None`).
    pub fn due(&self, time: CompletionTime, start: PrimitiveDateTime, pauses: &[Pause]) -> Option<PrimitiveDateTime> {
        if pauses.iter().any(|p| p.until.is_none()) {
            return None;
        }
        let (mut left, office_hours) = self.budget(time);
        let mut cursor = start;
        // Never search more than ten years ahead: a calendar with no working days has no due time.
        let limit = start.date().checked_add(Duration::days(3660))?;
        while cursor.date() <= limit {
            let (open, close) = if office_hours {
                match self.window(cursor.date()) {
                    Some(w) => w,
                    None => {
                        cursor = cursor.date().next_day()?.midnight();
                        continue;
                    }
                }
            } else {
                (cursor.date().midnight(), cursor.date().next_day()?.midnight())
            };
            let from = cursor.max(open);
            if from >= close {
                cursor = cursor.date().next_day()?.midnight();
                continue;
            }
            // Walk this window, skipping paused stretches.
            let mut t = from;
            for (p_from, p_until) in sorted_pauses(pauses, t, close) {
                if p_from > t {
                    let run = p_from - t;
                    if run >= left {
                        return Some(t + left);
                    }
                    left -= run;
                }
                t = t.max(p_until);
            }
            if close > t {
                let run = close - t;
                if run >= left {
                    return Some(t + left);
                }
                left -= run;
            }
            cursor = cursor.date().next_day()?.midnight();
        }
        None
    }

    /// How an application stands at `now` from its due time alone (the due time already
    /// accounts for past pauses; lists use this without loading each record).
    pub fn status_by_due(&self, time: CompletionTime, due: PrimitiveDateTime, now: PrimitiveDateTime) -> SlaStatus {
        self.classify(time, due, now, self.spent(time, now, due, &[]))
    }

    /// The SLA state given the due time and the budget left at `now`.
    fn classify(
        &self,
        time: CompletionTime,
        due: PrimitiveDateTime,
        now: PrimitiveDateTime,
        left: Duration,
    ) -> SlaStatus {
        if now >= due {
            return SlaStatus::Late;
        }
        let (budget, _) = self.budget(time);
        if left * 5 < budget {
            SlaStatus::AboutToBreach
        } else if due.date() == now.date() {
            SlaStatus::DueToday
        } else {
            SlaStatus::OnTrack
        }
    }

    /// How an application stands at `now`.
    pub fn status(
        &self,
        time: CompletionTime,
        start: PrimitiveDateTime,
        pauses: &[Pause],
        now: PrimitiveDateTime,
    ) -> SlaStatus {
        if pauses.iter().any(|p| p.until.is_none()) {
            return SlaStatus::Paused;
        }
        let Some(due) = self.due(time, start, pauses) else { return SlaStatus::Paused };
        let (budget, _) = self.budget(time);
        self.classify(time, due, now, budget - self.spent(time, start, now, pauses))
    }
}

/// Closed pauses overlapping `[from, to)`, clipped and in order.
fn sorted_pauses(
    pauses: &[Pause],
    from: PrimitiveDateTime,
    to: PrimitiveDateTime,
) -> Vec<(PrimitiveDateTime, PrimitiveDateTime)> {
    let mut out: Vec<(PrimitiveDateTime, PrimitiveDateTime)> =
        pauses.iter().filter_map(|p| p.until.map(|u| (p.from.max(from), u.min(to)))).filter(|(a, b)| b > a).collect();
    out.sort();
    out
}

/// Paused time inside `[from, to)`; an open pause counts up to `now`.
fn paused_within(pauses: &[Pause], from: PrimitiveDateTime, to: PrimitiveDateTime, now: PrimitiveDateTime) -> Duration {
    let mut spans: Vec<(PrimitiveDateTime, PrimitiveDateTime)> =
        pauses.iter().map(|p| (p.from.max(from), p.until.unwrap_or(now).min(to))).filter(|(a, b)| b > a).collect();
    spans.sort();
    // Merge overlaps so that nothing is subtracted twice.
    let mut total = Duration::ZERO;
    let mut current: Option<(PrimitiveDateTime, PrimitiveDateTime)> = None;
    for (a, b) in spans {
        match current {
            Some((ca, cb)) if a <= cb => current = Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                current = Some((a, b));
            }
            None => current = Some((a, b)),
        }
    }
    if let Some((a, b)) = current {
        total += b - a;
    }
    total
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn calendar() -> Calendar {
        let list = "tanggal,nama,jenis\n2026-03-19,Hari Suci Nyepi,libur_nasional\n2026-03-18,Cuti bersama Nyepi,cuti_bersama\n";
        Calendar::with_holidays(parse_holiday_list(list).unwrap())
    }

    fn check(time: CompletionTime, start: PrimitiveDateTime, pauses: &[Pause], expected: Option<PrimitiveDateTime>) {
        assert_eq!(calendar().due(time, start, pauses), expected, "{time:?} from {start}");
    }

    #[test]
    fn due_times() {
        use CompletionTime::*;
        // Monday 09:00 + 1 working day = Tuesday 09:00.
        check(WorkingDays(1), datetime!(2026-11-23 09:00), &[], Some(datetime!(2026-11-24 09:00)));
        // Friday 09:00 + 1 working day = Monday 09:00.
        check(WorkingDays(1), datetime!(2026-11-20 09:00), &[], Some(datetime!(2026-11-23 09:00)));
        // Started on Saturday: counting begins Monday at opening, so it is due at Monday's close.
        check(WorkingDays(1), datetime!(2026-11-21 10:00), &[], Some(datetime!(2026-11-23 16:00)));
        // Tuesday 17 March 09:00 + 1 working day skips cuti bersama (18) and Nyepi (19).
        check(WorkingDays(1), datetime!(2026-03-17 09:00), &[], Some(datetime!(2026-03-20 09:00)));
        // Ten minutes at 15:55: five today, five tomorrow after opening.
        check(Minutes(10), datetime!(2026-11-23 15:55), &[], Some(datetime!(2026-11-24 08:05)));
        check(Minutes(10), datetime!(2026-11-23 10:00), &[], Some(datetime!(2026-11-23 10:10)));
        // Immediate services are due when they start.
        check(Minutes(0), datetime!(2026-11-23 10:00), &[], Some(datetime!(2026-11-23 10:00)));
        // Calendar days run around the clock, holidays included.
        check(CalendarDays(1), datetime!(2026-03-18 09:00), &[], Some(datetime!(2026-03-19 09:00)));
        // A closed pause of two office hours pushes the due time by two office hours.
        let pause = Pause { from: datetime!(2026-11-23 10:00), until: Some(datetime!(2026-11-23 12:00)) };
        check(WorkingDays(1), datetime!(2026-11-23 09:00), &[pause], Some(datetime!(2026-11-24 11:00)));
        // An open pause: no due time while waiting.
        let open = Pause { from: datetime!(2026-11-23 10:00), until: None };
        check(WorkingDays(1), datetime!(2026-11-23 09:00), &[open], None);
    }

    #[test]
    fn status_against_now() {
        let cal = calendar();
        let start = datetime!(2026-11-23 09:00);
        let t = CompletionTime::WorkingDays(1);
        assert_eq!(cal.status(t, start, &[], datetime!(2026-11-23 10:00)), SlaStatus::OnTrack);
        assert_eq!(cal.status(t, datetime!(2026-11-23 15:00), &[], datetime!(2026-11-24 08:30)), SlaStatus::DueToday);
        assert_eq!(cal.status(t, start, &[], datetime!(2026-11-24 08:30)), SlaStatus::AboutToBreach);
        assert_eq!(cal.status(t, start, &[], datetime!(2026-11-24 09:00)), SlaStatus::Late);
        let open = Pause { from: datetime!(2026-11-23 10:00), until: None };
        assert_eq!(cal.status(t, start, &[open], datetime!(2026-11-30 10:00)), SlaStatus::Paused);
        assert_eq!(cal.spent(t, start, datetime!(2026-11-24 09:00), &[]), Duration::hours(8));
    }

    proptest::proptest! {
        /// Judged from the due time alone, an application stands as it does judged from its
        /// start (when nothing paused it).
        #[test]
        fn status_by_due_agrees_with_status(start_h in 0i64..400, now_h in 0i64..400, days in 1u16..6) {
            let cal = calendar();
            let t = CompletionTime::WorkingDays(days);
            let start = datetime!(2026-11-16 00:00) + Duration::minutes(start_h * 37);
            let now = start + Duration::minutes(now_h * 23);
            let due = cal.due(t, start, &[]).unwrap();
            proptest::prop_assert_eq!(cal.status_by_due(t, due, now), cal.status(t, start, &[], now));
        }
    }

    #[test]
    fn holiday_lists_are_checked() {
        let bad =
            "tanggal,nama,jenis\n2026-13-01,X,libur_nasional\n2026-01-01,Tahun Baru,libur\n2026-01-02,,cuti_bersama\n";
        let errors = parse_holiday_list(bad).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert!(parse_holiday_list("").is_err());
        assert!(parse_holiday_list("date,name\n").is_err());
        assert!(calendar().is_working_day(date!(2026 - 03 - 17)));
        assert!(!calendar().is_working_day(date!(2026 - 03 - 19)));
        assert!(!calendar().is_working_day(date!(2026 - 11 - 22)));
    }

    #[test]
    fn a_calendar_without_working_days_has_no_due_time() {
        let cal = Calendar {
            weekend: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ],
            ..Calendar::default()
        };
        assert_eq!(cal.due(CompletionTime::WorkingDays(1), datetime!(2026-11-23 09:00), &[]), None);
    }
}
