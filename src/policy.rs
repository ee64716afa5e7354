//! How strictly the CA rules are applied.

/// Whether the findings of SPEC §1.3 are reported (the default) or refused (`strict`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Policy {
    strict: bool,
}

impl Policy {
    /// Findings are accepted and reported with the result (what AWS does).
    #[must_use]
    pub const fn lenient() -> Self {
        Self { strict: false }
    }

    /// Every finding becomes an error ([`crate::CaError::StrictFinding`]).
    #[must_use]
    pub const fn strict() -> Self {
        Self { strict: true }
    }

    /// `true` for the strict policy.
    #[must_use]
    pub const fn is_strict(self) -> bool {
        self.strict
    }
}
