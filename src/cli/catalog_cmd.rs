//! `consentry catalog …`: read the data catalog, and check evaluation models against it.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, CliResult, print_json};
use crate::catalog::Catalog;
use crate::evaluation::Model;

#[derive(Debug, Subcommand)]
pub(super) enum CatalogCommand {
    /// List the data categories.
    Categories,
    /// List the financing purposes.
    Purposes,
    /// List the providing departments.
    Providers,
    /// List the authorization letters with their digests.
    Letters,
    /// Print one authorization letter in full.
    Letter {
        /// Letter id, e.g. STA/1.
        id: String,
    },
    /// Check a credit-evaluation model file against the catalog (spec/evaluation.md §2); without a
    /// file, print the built-in model. Exit 1 with the problem named when it cannot be used.
    Model {
        /// The model file (JSON).
        file: Option<std::path::PathBuf>,
    },
}

pub(super) fn run(cmd: CatalogCommand, catalog: &Catalog) -> CliResult {
    match cmd {
        CatalogCommand::Categories => {
            outln!("catalog {}", catalog.version());
            for c in catalog.categories() {
                let vis = if c.public { "public    " } else { "non-public" };
                outln!(
                    "{:<7} {vis} {:<8} {} / {}",
                    c.code,
                    c.providers.join("+"),
                    c.name_zh,
                    c.name_en
                );
            }
        }
        CatalogCommand::Purposes => {
            for p in catalog.purposes() {
                outln!("{:<28} {} / {}", p.code, p.name_zh, p.name_en);
            }
        }
        CatalogCommand::Providers => {
            for p in catalog.providers() {
                outln!("{:<7} {} / {}", p.id, p.name_zh, p.name_en);
            }
        }
        CatalogCommand::Letters => {
            for (l, d) in catalog.letters() {
                outln!("{:<9} sha256 {d}  {}", l.id, l.title_zh);
            }
        }
        CatalogCommand::Letter { id } => {
            let (l, d) = catalog
                .letter(&id)
                .ok_or_else(|| CliError::usage(format!("no letter {id}")))?;
            print_json(&json!({"letter": l, "sha256": d.to_hex()}))?;
        }
        CatalogCommand::Model { file: None } => {
            let m = Model::builtin(catalog)
                .map_err(|e| CliError::Invalid(vec![("invalid-evaluation-model".into(), e.to_string())]))?;
            print_json(&json!(m))?;
        }
        CatalogCommand::Model { file: Some(path) } => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
            let m = Model::from_json(&text, catalog)
                .map_err(|e| CliError::Invalid(vec![("invalid-evaluation-model".into(), e.to_string())]))?;
            outln!(
                "valid: model {} v{} ({} indicators over {}; grades {})",
                m.model_id,
                m.version,
                m.indicators.len(),
                m.categories().join(", "),
                m.grades
                    .iter()
                    .map(|g| g.grade.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    }
    Ok(())
}
