//! How strictly the CA rules are applied.

use crate::x509::backend::Backend;

/// Whether the findings of rule 1.3 are reported (the default) or refused (`strict`), and
/// which [`Backend`] verifies signatures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Policy {
    strict: bool,
    backend: Backend,
}

impl Policy {
    /// Findings are accepted and reported with the result (what AWS does).
    #[must_use]
    pub const fn lenient() -> Self {
        Self { strict: false, backend: Backend::preferred() }
    }

    /// Every finding becomes an error ([`crate::CaError::StrictFinding`]).
    #[must_use]
    pub const fn strict() -> Self {
        Self { strict: true, backend: Backend::preferred() }
    }

    /// The same policy, verifying on `backend`.
    #[must_use]
    pub const fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The backend that verifies signatures.
    #[must_use]
    pub const fn backend(self) -> Backend {
        self.backend
    }

    /// `true` for the strict policy.
    #[must_use]
    pub const fn is_strict(self) -> bool {
        self.strict
    }
}
