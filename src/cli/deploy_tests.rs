//! The deployment files in `deploy/` (deploy/README.md), read as the services read them: each
//! systemd unit's `ExecStart` is a command line this binary accepts, naming the example
//! configuration that the service's own loader resolves (`Config::resolve`,
//! `WitnessArgs::resolve`), into the unit's state folder; and each example lists every key of its
//! service exactly once, commented out or set, so that a key added to the code and not to the
//! examples fails here.

use std::path::{Path, PathBuf};

use clap::Parser as _;

use super::{Cli, Command};
use crate::config::{Config, ServeArgs, ServiceRole};
use crate::witness::WitnessArgs;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(deploy(name)).unwrap_or_else(|e| panic!("deploy/{name}: {e}"))
}

/// The value of the one `key=` line of a unit (it must have exactly one).
fn unit_value(unit: &str, text: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    let values: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(&prefix)).collect();
    assert_eq!(values.len(), 1, "{unit}: one {key}= line, found {values:?}");
    values[0].to_owned()
}

/// A `key = value` line of an example, with the leading `# ` of a commented-out key removed:
/// `Some(key)` when the line sets or shows a key.
fn key_of(line: &str) -> Option<&str> {
    let line = line.strip_prefix("# ").unwrap_or(line);
    let (key, _) = line.split_once(" = ")?;
    (!key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')).then_some(key)
}

/// The example with every commented-out key made live.
fn all_keys_live(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if key_of(rest).is_some() => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (unit, example configuration, the role a `serve` unit runs; `None`: the witness).
const UNITS: [(&str, &str, Option<ServiceRole>); 3] = [
    ("consentry-node.service", "node.toml", Some(ServiceRole::Node)),
    (
        "consentry-platform.service",
        "platform.toml",
        Some(ServiceRole::Platform),
    ),
    ("consentry-witness.service", "witness.toml", None),
];

#[test]
fn each_unit_runs_a_command_line_the_binary_accepts_with_its_example_configuration() {
    for (unit, example, role) in UNITS {
        let text = read(unit);
        let exec = unit_value(unit, &text, "ExecStart");
        assert!(
            !exec.contains(['"', '\'', '\\', '$', '%']),
            "{unit}: ExecStart is split on spaces here; keep it free of quoting and specifiers"
        );
        let argv: Vec<&str> = exec.split_whitespace().collect();
        assert_eq!(argv[0], "/usr/bin/consentry", "{unit}: the packaged binary");
        let installed = format!("/etc/consentry/{example}");
        assert!(
            argv.windows(2).any(|w| w == ["--config", installed.as_str()]),
            "{unit}: ExecStart names {installed}: {exec}"
        );
        let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{unit}: {exec}: {e}"));
        // The data folder of the example is the unit's state folder, its working directory.
        let state = format!("/var/lib/{}", unit_value(unit, &text, "StateDirectory"));
        assert_eq!(unit_value(unit, &text, "WorkingDirectory"), state, "{unit}");
        assert_eq!(unit_value(unit, &text, "Restart"), "on-failure", "{unit}");
        assert_eq!(unit_value(unit, &text, "UMask"), "0077", "{unit}");
        let (data_dir, listen) = match (cli.command, role) {
            (Command::Serve(mut args), Some(role)) => {
                args.config = Some(deploy(example));
                let c = Config::resolve(&args).unwrap_or_else(|e| panic!("{example}: {e}"));
                assert_eq!(c.role, role, "{example}");
                assert!(
                    c.public_url.starts_with("https://") && c.fix_origin,
                    "{example}: an explicit https:// public URL, which fixes the log origin"
                );
                assert!(c.database_url.starts_with("sqlite://"), "{example}");
                (c.data_dir, c.listen)
            }
            (Command::Witness(mut args), None) => {
                args.config = Some(deploy(example));
                let s = args.resolve().unwrap_or_else(|e| panic!("{example}: {e}"));
                assert_eq!(s.witness.logs.len(), 1, "{example}: one witnessed log");
                (s.witness.data_dir, s.listen)
            }
            (other, _) => panic!("{unit}: ExecStart runs {other:?}"),
        };
        assert_eq!(
            data_dir,
            PathBuf::from(&state),
            "{example}: data-dir is the unit's StateDirectory"
        );
        assert!(
            listen.starts_with("127.0.0.1:"),
            "{example}: behind the reverse proxy, on loopback: {listen}"
        );
    }
}

#[test]
fn each_example_lists_every_key_once_and_every_commented_key_parses() {
    let serve: Vec<&str> = ServeArgs::FIELDS.to_vec();
    let witness: Vec<&str> = WitnessArgs::FIELDS.to_vec();
    for (example, fields) in [
        ("node.toml", &serve),
        ("platform.toml", &serve),
        ("witness.toml", &witness),
    ] {
        let text = read(example);
        for field in fields.iter().filter(|f| **f != "config") {
            let key = field.replace('_', "-");
            let n = text.lines().filter(|l| key_of(l) == Some(key.as_str())).count();
            assert_eq!(
                n, 1,
                "{example}: the key {key} appears once (set or `# {key} = …`), not {n} times"
            );
        }
        // Made live, the commented-out keys are known keys of the right types (the loader refuses
        // unknown keys): a misspelt example fails here, not when an operator uncomments it.
        let live = all_keys_live(&text);
        assert_ne!(live, text, "{example}: has commented-out keys");
        let parsed = if example == "witness.toml" {
            toml::from_str::<WitnessArgs>(&live).map(drop)
        } else {
            toml::from_str::<ServeArgs>(&live).map(drop)
        };
        parsed.unwrap_or_else(|e| panic!("{example}, every key uncommented: {e}"));
    }
}

#[test]
fn the_test_helpers_read_keys_and_nothing_else() {
    assert_eq!(key_of("# data-dir = \"/x\""), Some("data-dir"));
    assert_eq!(key_of("listen = \"127.0.0.1:1\""), Some("listen"));
    assert_eq!(key_of("# The address = where it listens"), None);
    assert_eq!(key_of("# a comment"), None);
    assert_eq!(all_keys_live("# a = 1\n# A = 2\nb = 3"), "a = 1\n# A = 2\nb = 3");
}

/// The Debian package (`cargo deb`, Cargo.toml `[package.metadata.deb]`) ships every unit and example
/// of `deploy/`, from files that exist, the units where systemd looks for them.
#[test]
fn the_debian_package_ships_every_deployment_file() {
    let manifest: toml::Value =
        toml::from_str(include_str!("../../Cargo.toml")).unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .unwrap_or_else(|| panic!("Cargo.toml: no [package.metadata.deb] assets"));
    let assets: Vec<(&str, &str)> = assets
        .iter()
        .map(|a| (a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or("")))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (source, _) in &assets {
        assert!(
            *source == "target/release/consentry" || root.join(source).is_file(),
            "Cargo.toml: the package asset {source} does not exist"
        );
    }
    assert!(assets.contains(&("target/release/consentry", "usr/bin/")));
    for entry in std::fs::read_dir(root.join("deploy")).unwrap_or_else(|e| panic!("deploy/: {e}")) {
        let name = entry.map(|e| e.file_name()).unwrap_or_default();
        let name = name.to_string_lossy();
        if name == "debian" {
            continue;
        }
        let source = format!("deploy/{name}");
        let (_, target) = assets
            .iter()
            .find(|(s, _)| *s == source)
            .unwrap_or_else(|| panic!("Cargo.toml: the package lacks {source}"));
        if name.ends_with(".service") {
            assert_eq!(*target, "lib/systemd/system/", "{source}");
        }
    }
}
