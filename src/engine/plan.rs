//! The plan: a complete value that says what apply will do and why. Apply executes
//! its steps in order and decides nothing itself.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{AccountRole, OuPath};

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    /// Live state already matches.
    NoOp,
}

/// The name of a resource in plan output: `organization`, `ou["Security"]`,
/// `account.log_archive`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    Organization,
    Ou(OuPath),
    Account(AccountRole),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Organization => f.write_str("organization"),
            Address::Ou(p) => write!(f, "ou[\"{p}\"]"),
            Address::Account(r) => write!(f, "account.{}", r.key()),
        }
    }
}

/// One property's value before and after (None: absent / not yet known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Property {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// An id that is known now, or one an earlier step of the same apply produces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdRef {
    Known(String),
    /// The organization root (created by CreateOrganization).
    Root,
    /// The OU at this path (created by an earlier CreateOu).
    Ou(OuPath),
    /// The account of this role (created by an earlier CreateAccount/AwaitAccount).
    Account(AccountRole),
}

/// One AWS-side action apply performs. Steps carry everything they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    CreateOrganization,
    CreateOu {
        path: OuPath,
        parent: IdRef,
    },
    /// Send CreateAccount, then wait for the request to finish.
    CreateAccount {
        role: AccountRole,
        name: String,
        email: String,
        access_role: String,
        tags: BTreeMap<String, String>,
    },
    /// Wait for a CreateAccount request sent by an earlier, interrupted run.
    AwaitAccount {
        role: AccountRole,
        request_id: String,
        email: String,
    },
    MoveAccount {
        account: IdRef,
        from: IdRef,
        to: IdRef,
    },
    TagAccount {
        account: IdRef,
        tags: BTreeMap<String, String>,
    },
}

/// One resource's change: what, why, and the steps that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// The live id, when the resource exists.
    pub id: Option<String>,
    pub properties: Vec<Property>,
    pub reason: String,
    pub steps: Vec<Step>,
}

/// A precondition that stops the plan: nothing can be applied until it is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub message: String,
    pub hint: String,
}

/// Everything `sra plan` found and `sra apply` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub organization_id: Option<String>,
    pub caller_account: String,
    pub changes: Vec<Change>,
    pub blockers: Vec<Blocker>,
}

/// How many changes of each action a plan holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::NoOp => s.unchanged += 1,
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Every step apply runs, in order.
    pub fn steps(&self) -> impl Iterator<Item = (&Change, &Step)> {
        self.changes
            .iter()
            .flat_map(|c| c.steps.iter().map(move |s| (c, s)))
    }
}
