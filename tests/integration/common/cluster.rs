//! A throwaway PostgreSQL cluster of a test's own: its own data directory, port and socket folder,
//! so that the test may stop, restart and kill it without touching the machine's shared server.
//!
//! The server binaries are found with `pg_config --bindir`, else under
//! `/usr/lib/postgresql/<version>/bin` (override with `CONSENTRY_TEST_PG_BIN`). PostgreSQL refuses to
//! run as root: as root the cluster runs as the `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A running (or stopped) cluster, stopped (`immediate`) and deleted when dropped.
pub struct PgCluster {
    bin: PathBuf,
    /// The cluster's folder: `data/`, `sock/`, `server.log`.
    pub dir: tempfile::TempDir,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

fn bindir() -> PathBuf {
    if let Ok(b) = std::env::var("CONSENTRY_TEST_PG_BIN") {
        return b.into();
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.join("initdb").exists() {
            return p;
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found
        .pop()
        .expect("PostgreSQL server binaries (initdb, pg_ctl): set CONSENTRY_TEST_PG_BIN")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgCluster {
    /// initdb (trust authentication) and start.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = super::free_port();
        let c = Self {
            bin: bindir(),
            dir,
            port,
            as_postgres: is_root(),
        };
        std::fs::create_dir(c.sock()).unwrap();
        if c.as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(c.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the cluster folder to postgres");
        }
        let out = c.run(
            "initdb",
            &[
                "-D",
                c.data().to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--no-instructions",
            ],
        );
        assert!(out.status.success(), "initdb: {out:?}");
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             max_connections = 40\nshared_buffers = 16MB\nfsync = on\n",
            c.port,
            c.sock().display()
        );
        let path = c.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&conf);
        std::fs::write(&path, text).unwrap();
        c.start_server();
        c
    }

    /// The database URL (the `postgres` database).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).current_dir(Path::new("/")).output().unwrap()
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let (data, log) = (self.data(), self.log());
        let mut all = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
        ];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    /// `pg_ctl start`, retried for a while (after a kill -9 the old backends take a moment to go).
    pub fn start_server(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.pg_ctl(&["start"]);
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "pg_ctl start: {out:?}\n{}",
                self.server_log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `pg_ctl restart -m fast`.
    pub fn restart_fast(&self) {
        let out = self.pg_ctl(&["restart", "-m", "fast"]);
        assert!(
            out.status.success(),
            "pg_ctl restart: {out:?}\n{}",
            self.server_log()
        );
    }

    /// `pg_ctl stop -m fast`.
    pub fn stop_fast(&self) {
        let out = self.pg_ctl(&["stop", "-m", "fast"]);
        assert!(
            out.status.success(),
            "pg_ctl stop: {out:?}\n{}",
            self.server_log()
        );
    }

    /// SIGKILL to the postmaster (a crash), then wait until it is gone.
    pub fn kill_postmaster(&self) {
        let pidfile = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        let pid = pidfile.lines().next().unwrap().trim().to_owned();
        let ok = Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -9 {pid}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{pid}")).exists() {
            // A zombie until pg_ctl's parent (init) reaps it: gone as far as clients care.
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if state.contains(") Z ") || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
    }
}
