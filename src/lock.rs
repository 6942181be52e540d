//! The lock file: the ids of the plan's accounts, kept next to the plan file
//! (`org.toml` → `org.lock`), so that `sra plan` finds Security Tooling and Log
//! Archive with one DescribeAccount each instead of listing the whole
//! organization. `sra apply` writes it; commit it beside the plan file.
//!
//! It is only ever a shortcut: an id that no longer names the account with the
//! plan's email (or an organization id that differs) is ignored with a note, and
//! sra finds the accounts by email as it does without a lock file.
//!
//! `parse` and `render` are pure; `read` and `write` touch the file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::AccountRole;

pub const VERSION: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lock {
    pub organization_id: String,
    pub accounts: BTreeMap<AccountRole, String>,
}

/// Where the lock file of `plan` lives: beside it, with the extension `.lock`.
pub fn path_for(plan: &Path) -> PathBuf {
    plan.with_extension("lock")
}

pub fn render(lock: &Lock) -> String {
    let mut out = String::from(
        "# Written by `sra apply` and `sra init`: the ids of the plan's accounts, so that\n\
         # `sra plan` finds them without listing the whole organization. Commit it beside\n\
         # the plan file. Safe to delete: sra then finds the accounts by email again.\n",
    );
    out.push_str(&format!("version = {VERSION}\norganization_id = \"{}\"\n\n[accounts]\n", lock.organization_id));
    for (role, id) in &lock.accounts {
        out.push_str(&format!("{} = \"{id}\"\n", role.key()));
    }
    out
}

pub fn parse(text: &str) -> Result<Lock, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        version: i64,
        organization_id: String,
        #[serde(default)]
        accounts: BTreeMap<String, String>,
    }
    let raw: Raw = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
    if raw.version != VERSION {
        return Err(format!("version {} is not one this sra reads (it reads {VERSION})", raw.version));
    }
    let mut lock = Lock { organization_id: raw.organization_id, accounts: BTreeMap::new() };
    for (key, id) in raw.accounts {
        let role = AccountRole::from_key(&key).ok_or_else(|| format!("[accounts] has no role \"{key}\""))?;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("accounts.{key} = \"{id}\" is not a 12-digit account id"));
        }
        lock.accounts.insert(role, id);
    }
    Ok(lock)
}

/// The lock file of `plan`, if there is a readable one. A broken file is not an
/// error (it is only a shortcut): the reason comes back for a warning.
pub fn read(plan: &Path) -> Result<Option<Lock>, String> {
    let path = path_for(plan);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map(Some).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Write the lock file of `plan` if its content would change. Returns the path
/// when it wrote.
pub fn write(plan: &Path, lock: &Lock) -> std::io::Result<Option<PathBuf>> {
    let path = path_for(plan);
    let text = render(lock);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(None);
    }
    std::fs::write(&path, text)?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> Lock {
        Lock {
            organization_id: "o-abc123".into(),
            accounts: [
                (AccountRole::SecurityTooling, "111111111111".to_string()),
                (AccountRole::LogArchive, "222222222222".to_string()),
            ]
            .into(),
        }
    }

    #[test]
    fn render_then_parse_is_the_same_lock() {
        let text = render(&lock());
        assert_eq!(parse(&text), Ok(lock()));
        assert!(text.contains("security_tooling = \"111111111111\""), "{text}");
    }

    #[test]
    fn parse_rejects_what_it_cannot_trust() {
        let bad = |t: &str| parse(t).unwrap_err();
        assert!(bad("version = 2\norganization_id = \"o-1\"\n").contains("version 2"));
        assert!(
            bad("version = 1\norganization_id = \"o-1\"\n[accounts]\naudit = \"111111111111\"\n").contains("audit")
        );
        assert!(bad("version = 1\norganization_id = \"o-1\"\n[accounts]\nlog_archive = \"12\"\n").contains("12-digit"));
        assert!(bad("version = 1\n").contains("organization_id"));
        assert!(bad("version = 1\norganization_id = \"o\"\nextra = 1\n").contains("extra"));
    }

    #[test]
    fn the_lock_lives_beside_the_plan() {
        assert_eq!(path_for(Path::new("plans/org.toml")), PathBuf::from("plans/org.lock"));
    }

    #[test]
    fn write_touches_the_file_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("org.toml");
        assert_eq!(read(&plan), Ok(None));
        assert_eq!(write(&plan, &lock()).unwrap(), Some(dir.path().join("org.lock")));
        assert_eq!(write(&plan, &lock()).unwrap(), None);
        assert_eq!(read(&plan), Ok(Some(lock())));
        std::fs::write(dir.path().join("org.lock"), "not toml = [").unwrap();
        assert!(read(&plan).unwrap_err().contains("org.lock"));
    }
}
