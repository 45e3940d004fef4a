//! `consentry catalog …`: read the data catalog.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, CliResult, print_json};
use crate::catalog::Catalog;

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
    }
    Ok(())
}
