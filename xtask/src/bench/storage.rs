//! The history on object storage: `cyrisma snapshot` into an S3 server (moto's server mode on
//! loopback, from PyPI) against the same snapshot into a local directory, alternated rounds on one
//! emulator, median wall times (row `S3`, goal ≤ 1.3x).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};

use super::{Cmp, EmulatorProcess, Report, cargo_target_dir, median, output, run_process};

const ID: &str = "S3";
const GOAL: &str = "≤ 1.3x";

/// A moto S3 server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start(python: &Path) -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut child = Command::new(python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start moto's server")?;
        // Bounded wait: 600 attempts, 50 ms apart.
        for _ in 0..600 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, port });
            }
            if let Some(status) = child.try_wait()? {
                return Err(anyhow!("moto's server exited ({status})"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(anyhow!("moto's server did not start listening"))
    }

    /// Creates a bucket (moto does not check signatures, so a bare request does).
    fn create_bucket(&self, bucket: &str) -> Result<()> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        anyhow::ensure!(
            response.starts_with("HTTP/1.1 200"),
            "cannot create the bucket: {}",
            response.lines().next().unwrap_or("")
        );
        Ok(())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Row `S3`: run after the CLI goals, which build `cyrisma` and the emulator in this profile.
pub(super) fn goals(report: &mut Report, root: &Path, dir: &Path, python: Option<&Path>) -> Result<()> {
    let instances: u32 = if report.quick { 5 } else { 200 };
    let what =
        format!("`cyrisma snapshot` to an S3 server (moto on loopback) vs to a local directory, {instances} instances");
    let profile = if report.quick { "debug" } else { "release" };
    let target = cargo_target_dir(root).join(profile);
    let (cli, emulator) = (target.join("cyrisma"), target.join("cyrisma-emulator"));
    if !cli.exists() || !emulator.exists() {
        report.missing(ID, what, GOAL, "cyrisma-cli or the emulator is not built");
        return Ok(());
    }
    let Some(python) = python else {
        report.missing(ID, what, GOAL, "no Python for moto's S3 server");
        return Ok(());
    };
    let have_moto = Command::new(python).args(["-c", "import moto.server"]).output().is_ok_and(|o| o.status.success());
    if !have_moto {
        eprintln!("xtask bench: pip install moto[server]");
        if let Err(error) = output(Command::new(python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "moto[server]",
        ])) {
            report.missing(ID, what, GOAL, format!("moto could not be installed: {error:#}"));
            return Ok(());
        }
    }
    let moto = Moto::start(python)?;
    moto.create_bucket("bench")?;
    let server = EmulatorProcess::start(&emulator, instances)?;
    let local = dir.join("storage-local");
    let _ = std::fs::remove_dir_all(&local);
    let config_dir = dir.join("cli-config");
    std::fs::create_dir_all(&config_dir)?;
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let snapshot = |location: &str| -> Result<f64> {
        let mut command = Command::new(&cli);
        command
            .args(["snapshot", "--dir", location])
            .env("CYRISMA_CONFIG_DIR", &config_dir)
            .env("CYRISMA_NO_PROGRESS", "true")
            .envs(server.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs([
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", "bench"),
                ("AWS_SECRET_ACCESS_KEY", "bench"),
                ("AWS_REGION", "us-east-1"),
            ]);
        Ok(run_process(&mut command)?.0)
    };
    let local = local.to_string_lossy().into_owned();
    let remote = "s3://bench/history";
    let rounds = if report.quick { 1 } else { 5 };
    if !report.quick {
        snapshot(&local)?;
        snapshot(remote)?;
    }
    let (mut on_disk, mut on_s3) = (vec![], vec![]);
    for round in 0..rounds {
        eprintln!("xtask bench: snapshot to a directory and to S3, round {}", round + 1);
        on_disk.push(snapshot(&local)?);
        on_s3.push(snapshot(remote)?);
    }
    let (disk, s3) = (median(&on_disk), median(&on_s3));
    let detail = format!("{:.2} s vs {:.2} s, median of {rounds} alternated rounds", s3, disk);
    report.goal(ID, what, s3 / disk, Cmp::AtMost(1.3), "x", &detail);
    Ok(())
}
