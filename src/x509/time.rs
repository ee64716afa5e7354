//! Time as the caller passes it and as certificates state it: whole seconds since the Unix
//! epoch, UTC, signed, so that every time DER can express (UTCTime 1950–2049, GeneralizedTime
//! 0000–9999) is one value compared exactly.
//!
//! The calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (proleptic Gregorian, exact for every year): written here because `der::DateTime` and
//! `rustls_pki_types::UnixTime` both stop at 1970, and RFC 5280 §4.1.2.5.1 reads UTCTime
//! `YY ≥ 50` as 19YY.

use core::fmt;

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z; negative before it.
///
/// The library never reads a clock: every call that needs "now" takes one of these.
/// Certificate times have one-second granularity, so a caller holding a finer time passes
/// its floor. Any `i64` is a `UnixTime`; the calendar ([`UnixTime::from_calendar`],
/// `Display`, [`UnixTime::parse_rfc3339`]) covers [`UnixTime::MIN`]..=[`UnixTime::MAX`],
/// the years 0000–9999 that certificates can state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

/// A calendar date and time of day, UTC, as a certificate states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

const SECS_PER_DAY: i64 = 86_400;

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12, day valid).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // mp is 0..=11 and day 1..=31, so both fit a u8.
    (year, u8::try_from(month).unwrap_or(1), u8::try_from(day).unwrap_or(1))
}

impl UnixTime {
    /// 0000-01-01T00:00:00Z, the earliest time a GeneralizedTime can state.
    pub const MIN: Self = Self(-62_167_219_200);
    /// 9999-12-31T23:59:59Z, the latest time a GeneralizedTime can state (RFC 5280's
    /// "no well-defined expiration date").
    pub const MAX: Self = Self(253_402_300_799);

    /// The time `secs` whole seconds after the Unix epoch (before it when negative).
    #[must_use]
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch (negative before it).
    #[must_use]
    pub const fn as_secs(self) -> i64 {
        self.0
    }

    /// The time of a calendar date (proleptic Gregorian, UTC), or `None` when a value is out
    /// of its range or the year is outside 0000..=9999.
    #[must_use]
    pub fn from_calendar(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let year = i64::from(year);
        let valid = year <= 9999
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then(|| {
            let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
            Self(days_from_civil(year, month, day) * SECS_PER_DAY + secs)
        })
    }

    /// A `SystemTime` the caller read, floored to whole seconds (this converts a value; the
    /// library itself never reads the clock).
    #[must_use]
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        let secs = |d: core::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => Self(secs(after)),
            // Before the epoch: floor, so 0.5 s before is -1.
            Err(before) => {
                let d = before.duration();
                Self(-secs(d) - i64::from(d.subsec_nanos() > 0))
            }
        }
    }

    /// The calendar date and time of day of this time.
    pub(crate) fn civil(self) -> Civil {
        let days = self.0.div_euclid(SECS_PER_DAY);
        let secs = self.0.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        // secs is 0..86400, so each part fits a u8.
        let part = |v: i64| u8::try_from(v).unwrap_or(0);
        Civil { year, month, day, hour: part(secs / 3600), minute: part(secs / 60 % 60), second: part(secs % 60) }
    }

    /// This time plus `secs` seconds, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, secs: i64) -> Option<Self> {
        match self.0.checked_add(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// This time minus `secs` seconds, or `None` on overflow.
    #[must_use]
    pub const fn checked_sub(self, secs: i64) -> Option<Self> {
        match self.0.checked_sub(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Parses an RFC 3339 UTC timestamp (`2026-11-28T17:09:08Z`; fractions of a second are
    /// dropped, i.e. floored), years 0000..=9999.
    ///
    /// Returns `None` when the text is not of that form.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() < 20 || b.len() > 40 {
            return None;
        }
        let (main, rest) = b.split_at(19);
        let num = |r: core::ops::Range<usize>| -> Option<u16> { decimal(main.get(r)?) };
        let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| main.get(i) != Some(&c)) || !matches!(main.get(10), Some(b'T' | b't')) {
            return None;
        }
        let tail = match rest.split_first() {
            Some((b'.', frac)) => {
                let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                frac.get(digits..)?
            }
            _ => rest,
        };
        if !matches!(tail, [b'Z' | b'z'] | b"+00:00") {
            return None;
        }
        let small = |r| num(r).and_then(|v| u8::try_from(v).ok());
        Self::from_calendar(num(0..4)?, small(5..7)?, small(8..10)?, small(11..13)?, small(14..16)?, small(17..19)?)
    }

    /// Decodes the content octets of a UTCTime (`YYMMDDHHMMSSZ`, RFC 5280 §4.1.2.5.1:
    /// `YY ≥ 50` is 19YY, else 20YY) or, with `generalized`, a GeneralizedTime
    /// (`YYYYMMDDHHMMSSZ`, RFC 5280 §4.1.2.5.2: no fractions), exactly as RFC 5280 fixes their form.
    pub(crate) fn from_asn1(content: &[u8], generalized: bool) -> Option<Self> {
        let (year, rest) = if generalized {
            let (y, rest) = split(content, 4)?;
            (decimal(y)?, rest)
        } else {
            let (y, rest) = split(content, 2)?;
            let yy = decimal(y)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        };
        if rest.len() != 11 || rest.last() != Some(&b'Z') {
            return None;
        }
        let two = |i: usize| rest.get(i..i + 2).and_then(decimal).and_then(|v| u8::try_from(v).ok());
        Self::from_calendar(year, two(0)?, two(2)?, two(4)?, two(6)?, two(8)?)
    }
}

fn split(bytes: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= at).then(|| bytes.split_at(at))
}

/// ASCII decimal digits (at most four) as a number.
fn decimal(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 4 {
        return None;
    }
    digits.iter().try_fold(0u16, |v, &c| c.is_ascii_digit().then(|| v * 10 + u16::from(c - b'0')))
}

impl fmt::Display for UnixTime {
    /// RFC 3339, UTC, whole seconds: `2026-11-28T17:09:08Z`; a time outside
    /// [`UnixTime::MIN`]..=[`UnixTime::MAX`] as `@` and its seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self < Self::MIN || *self > Self::MAX {
            return write!(f, "@{}", self.0);
        }
        let c = self.civil();
        write!(f, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute, c.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        // 2024-03-01T00:00:00Z
        let t = UnixTime::from_secs(1_709_251_200);
        assert_eq!(t.to_string(), "2024-03-01T00:00:00Z");
        assert_eq!(UnixTime::parse_rfc3339("2024-03-01T00:00:00Z"), Some(t));
        assert_eq!(UnixTime::parse_rfc3339("2024-03-01T00:00:00.999Z"), Some(t));
        assert_eq!(UnixTime::parse_rfc3339("2024-03-01T00:00:00+00:00"), Some(t));
    }

    #[test]
    fn rfc3339_rejects_garbage() {
        for s in [
            "",
            "2024-03-01",
            "2024-03-01T00:00:00",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-03-01T24:00:00Z",
            "2024-03-01T00:00:60Z",
            "2024-03-01T00:00:00.Z",
            "2024-03-01T00:00:00+01:00",
            "+999-12-31T23:59:59Z",
        ] {
            assert_eq!(UnixTime::parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn before_1970_and_the_ends_of_the_calendar() {
        let t = UnixTime::parse_rfc3339("1969-12-31T23:59:59Z");
        assert_eq!(t, Some(UnixTime::from_secs(-1)));
        // 1950-01-01T12:01:00Z, the notBefore of NIST PKITS 4.2.3.
        let pkits = UnixTime::from_secs(-631_108_740);
        assert_eq!(pkits.to_string(), "1950-01-01T12:01:00Z");
        assert_eq!(UnixTime::from_asn1(b"500101120100Z", false), Some(pkits));
        assert_eq!(UnixTime::MIN.to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(UnixTime::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(UnixTime::from_asn1(b"99991231235959Z", true), Some(UnixTime::MAX));
        assert_eq!(UnixTime::from_asn1(b"00000101000000Z", true), Some(UnixTime::MIN));
        assert_eq!(UnixTime::MAX.checked_add(1).map(|t| t.to_string()), Some("@253402300800".into()));
        assert_eq!(UnixTime::from_calendar(2000, 2, 29, 0, 0, 0).map(UnixTime::as_secs), Some(951_782_400));
        assert_eq!(UnixTime::from_calendar(1900, 2, 29, 0, 0, 0), None);
    }

    #[test]
    fn asn1_forms_are_exact() {
        // 2049-12-31T23:59:59Z is the last UTCTime; 50 is 1950.
        assert_eq!(
            UnixTime::from_asn1(b"491231235959Z", false).map(|t| t.to_string()),
            Some("2049-12-31T23:59:59Z".into())
        );
        for bad in [
            &b"5001011201Z"[..],
            b"500101120100",
            b"500101120100+0000",
            b"5001011201000Z",
            b"500132120100Z",
            b"5O0101120100Z",
            b"",
        ] {
            assert_eq!(UnixTime::from_asn1(bad, false), None, "{bad:?}");
        }
        for bad in [&b"20240101000000.5Z"[..], b"202401010000Z", b"20240101000000", b"2024010100000aZ"] {
            assert_eq!(UnixTime::from_asn1(bad, true), None, "{bad:?}");
        }
    }

    #[test]
    fn calendar_round_trips_every_day_boundary() {
        // Every 97th day over the whole 0000..=9999 range, and both sides of midnight.
        let mut day = UnixTime::MIN.as_secs();
        while day <= UnixTime::MAX.as_secs() {
            for t in [day, day + SECS_PER_DAY - 1] {
                let t = UnixTime::from_secs(t);
                let c = t.civil();
                let back = u16::try_from(c.year)
                    .ok()
                    .and_then(|y| UnixTime::from_calendar(y, c.month, c.day, c.hour, c.minute, c.second));
                assert_eq!(back, Some(t));
            }
            day += 97 * SECS_PER_DAY;
        }
    }
}
