//! A real SMTP server for the tests: aiosmtpd (server/scripts/smtp-sink.py) in the venv
//! server/scripts/py-tools.sh makes. Without it the e-mail tests skip, except in CI.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

pub struct Sink {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile_dir::Dir,
}

/// One received message.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

#[derive(Default)]
pub struct Options<'a> {
    pub fail_first: u32,
    pub login: Option<(&'a str, &'a str)>,
}

impl Sink {
    pub fn start(options: Options<'_>) -> Option<Self> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let python = format!("{root}/target/py-tools/bin/python3");
        if !std::path::Path::new(&python).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs the SMTP test server: server/scripts/py-tools.sh"
            );
            eprintln!("skipped: run server/scripts/py-tools.sh first (make test does)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let dir = tempfile_dir::Dir::new();
        let out = dir.path.join("received.jsonl");
        let mut cmd = Command::new(python);
        cmd.arg(format!("{root}/server/scripts/smtp-sink.py"))
            .args(["--port", &port.to_string(), "--out"])
            .arg(&out)
            .args(["--fail-first", &options.fail_first.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some((user, password)) = options.login {
            cmd.args(["--user", user, "--password", password]);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP test server did not start");
        Some(Self {
            child,
            port,
            out,
            _dir: dir,
        })
    }

    pub fn received(&self) -> Vec<Received> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
mod tempfile_dir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }

    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir()
                .join(format!("rollgate-smtp-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).unwrap();
            Self { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
