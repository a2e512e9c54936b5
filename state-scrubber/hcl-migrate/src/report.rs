//! What a plan tells the user: edits made, hazards to know about, and things left alone.

use std::fmt;
use std::path::PathBuf;

/// What kind of rewrite an edit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditKind {
    /// A plain secret attribute became its write-only twin plus a version trigger.
    WriteOnlyTwin,
    /// A secret-reading data source (or `random_password`) became an `ephemeral` block.
    Ephemeral,
    /// `aws_secretsmanager_secret` + `_version` became one `offstate_secret`.
    OffstateSecret,
    /// The `offstate` entry was added to `required_providers`.
    RequiredProviders,
    /// A secret an argument with no write-only form stored moved into an `offstate_secret`; the
    /// argument holds its reference.
    SecretReference,
}

/// One rewrite in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditNote {
    /// 1-based line in the original file.
    pub line: usize,
    /// What was done.
    pub kind: EditKind,
    /// A sentence naming the addresses involved (never a value).
    pub message: String,
}

/// A known migration hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hazard {
    /// `aws_db_instance.password` → `password_wo` can clear the master password
    /// (hashicorp/terraform-provider-aws#42582).
    MasterPasswordCleared,
    /// Setting a version attribute for the first time makes the provider send the value again.
    ValueResent,
    /// The secret is a literal in the configuration: it stays in the code and in plan JSON.
    LiteralSecret,
    /// A secret value feeds `for_each` or `count`, so its source cannot become ephemeral.
    FeedsRepetition,
    /// A secret value is exposed through an output, so its source cannot become ephemeral.
    UsedInOutput,
    /// An ephemeral `random_password` makes a new value on every run.
    EphemeralRegenerates,
    /// An argument or output that held a secret now holds a reference to it.
    NowAReference,
    /// A variable became ephemeral: a saved plan no longer carries it.
    EphemeralVariable,
    /// `offstate_secret` with `generate`, moved from `aws_secretsmanager_secret`: the first apply
    /// keeps the current value (offstate adopts it), but any later change of `generate` writes a
    /// newly generated value (the secret rotates).
    GenerateAdoptsValue,
    /// A write-only value may be null (`try(..., null)`, a variable defaulting to null) while its
    /// version trigger is `1`: the provider requires the two together.
    TriggerWithoutValue,
    /// A `provider` meta-argument was dropped because `offstate_secret` uses the offstate provider.
    ProviderArgumentDropped,
    /// The module's `required_providers` (or `required_version`) constraint excludes the version
    /// the write-only arguments need: `terraform init` keeps an older provider, which rejects them.
    VersionConstraintExcludes,
    /// The module's `required_version` admits (or, absent, does not rule out) a Terraform older
    /// than the rewrites need (1.11 for write-only arguments, 1.10 for ephemeral blocks and
    /// variables): that Terraform fails on them instead of on the constraint.
    OlderTerraformAdmitted,
    /// A resource sets both a plain secret argument and its write-only twin (migrated by hand,
    /// half way): the provider refuses the two together.
    BothForms,
}

/// A hazard found while planning, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 for module-wide warnings).
    pub line: usize,
    /// Which hazard.
    pub hazard: Hazard,
    /// What to do about it.
    pub message: String,
}

/// Something left alone (with the reason) or worth knowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 for module-wide notes).
    pub line: usize,
    /// The explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: warning: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}: warning: {}",
                self.path.display(),
                self.line,
                self.message
            )
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: note: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}: note: {}",
                self.path.display(),
                self.line,
                self.message
            )
        }
    }
}
