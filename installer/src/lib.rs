//! Provisioning of an office box: preflight and `doctor` checks, enrollment with the hub,
//! certificates, configuration and the service unit.
//!
//! Architecture invariant: checks are described and judged here; the server runs them and
//! shows the result. Enrollment arrives with issue #4; today the crate holds the vocabulary of a
//! check report.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

/// How one check came out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Fine.
    Pass,
    /// Works, but an installer should look (e.g. clock a few minutes off).
    Warn(String),
    /// Blocks operation (e.g. data directory not writable).
    Fail(String),
}

/// One named check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked, e.g. "data directory writable".
    pub name: String,
    /// The result.
    pub outcome: Outcome,
}

/// True when no check failed.
pub fn all_pass(checks: &[Check]) -> bool {
    !checks.iter().any(|c| matches!(c.outcome, Outcome::Fail(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_does_not_fail_the_report() {
        let checks = vec![
            Check { name: "a".into(), outcome: Outcome::Pass },
            Check { name: "b".into(), outcome: Outcome::Warn("clock".into()) },
        ];
        assert!(all_pass(&checks));
        let failed = vec![Check { name: "c".into(), outcome: Outcome::Fail("disk".into()) }];
        assert!(!all_pass(&failed));
    }
}
