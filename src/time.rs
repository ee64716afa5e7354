//! Time as the caller passes it: whole seconds since the Unix epoch, UTC.

use core::fmt;

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
///
/// The library never reads a clock: every call that needs "now" takes one of these.
/// Certificate times have one-second granularity, so a caller holding a finer time passes
/// its floor (see [`UnixTime::from_secs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The time `secs` whole seconds after the Unix epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// This time plus `secs` seconds, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, secs: u64) -> Option<Self> {
        match self.0.checked_add(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// This time minus `secs` seconds, or `None` before the epoch.
    #[must_use]
    pub const fn checked_sub(self, secs: u64) -> Option<Self> {
        match self.0.checked_sub(secs) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Parses an RFC 3339 UTC timestamp (`2026-11-28T17:09:08Z`, fractions of a second are
    /// dropped, i.e. floored).
    ///
    /// # Errors
    /// Returns `None` when the text is not of that form or lies outside 1970..=9999.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() < 20 || b.len() > 40 {
            return None;
        }
        let (main, rest) = b.split_at(19);
        let num = |r: core::ops::Range<usize>| -> Option<u16> {
            let mut v: u16 = 0;
            for &c in main.get(r)? {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + u16::from(c - b'0');
            }
            Some(v)
        };
        let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| main[i] != c) || !matches!(main[10], b'T' | b't') {
            return None;
        }
        let tail = match rest.split_first() {
            Some((b'.', frac)) => {
                let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                &frac[digits..]
            }
            _ => rest,
        };
        if !matches!(tail, [b'Z' | b'z'] | b"+00:00") {
            return None;
        }
        let dt = der::DateTime::new(
            num(0..4)?,
            u8::try_from(num(5..7)?).ok()?,
            u8::try_from(num(8..10)?).ok()?,
            u8::try_from(num(11..13)?).ok()?,
            u8::try_from(num(14..16)?).ok()?,
            u8::try_from(num(17..19)?).ok()?,
        )
        .ok()?;
        Some(Self(dt.unix_duration().as_secs()))
    }
}

impl fmt::Display for UnixTime {
    /// RFC 3339, UTC, whole seconds: `2026-11-28T17:09:08Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match der::DateTime::from_unix_duration(core::time::Duration::from_secs(self.0)) {
            Ok(dt) => write!(f, "{dt}"),
            Err(_) => write!(f, "@{}", self.0),
        }
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
            "2024-03-01T00:00:00.Z",
            "2024-03-01T00:00:00+01:00",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(UnixTime::parse_rfc3339(s), None, "{s}");
        }
    }
}
