//! Entry point: flags -> config -> logging -> app; waits for SIGINT/SIGTERM and shuts down gracefully.
//! Exit codes: 0 ok, 1 bad configuration, 2 runtime failure at start; `preflight` has its own (see
//! `preflight::command::Exit`).

use std::process::ExitCode;
use std::time::Duration;

use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::{self, LogFormat};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

fn init_logging(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .init(),
        LogFormat::Logfmt => registry
            .with(
                tracing_logfmt::builder()
                    .layer()
                    .with_writer(std::io::stderr),
            )
            .init(),
    }
}

/// How long shutdown waits for blocking-pool work (a `statvfs` on a hung mount can block for minutes) before the
/// process exits anyway.
const BLOCKING_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);

/// Blocks at least this large are mmap'd, and so given back to the kernel when freed.
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// glibc raises its mmap threshold to the size of every mmap'd block freed: after the first large RPC answer every
/// later one (and its decoded pieces) comes from the heap instead, and the heap's fragments stay resident. With a
/// 300-member committee that kept 18-22 MiB resident where 11-12 MiB is needed (`scripts/bench`). A fixed threshold
/// also turns that adjustment off.
fn keep_large_blocks_mmapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; it runs first thing in main, before any other thread exists,
    // and a refusal (return value 0) leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

fn main() -> ExitCode {
    keep_large_blocks_mmapped();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("upgrade-check") {
        return upgrade_check(&args[1..]);
    }
    let env = |k: &str| std::env::var(k).ok();
    let cli = match config::env::parse_cli(&args, env) {
        Ok(c) => c,
        Err(Ok(message)) => {
            eprintln!("conflux-pos-exporter: invalid configuration: {message}");
            return ExitCode::from(1);
        }
        Err(Err(clap_error)) => clap_error.exit(),
    };
    if let Some(config::Command::Preflight(a)) = &cli.command {
        return preflight(a);
    }
    let config = match config::load(&cli) {
        Ok(c) => c,
        Err(e) => {
            let e = config::env::explain(e, &args, env);
            eprintln!("conflux-pos-exporter: invalid configuration: {e}");
            return ExitCode::from(1);
        }
    };
    if cli.config_check {
        for w in config.warnings() {
            println!("# warning: {w}");
        }
        println!("# configuration is valid (secrets redacted)\n{config}");
        return ExitCode::SUCCESS;
    }
    init_logging(&config.log_level, config.log_format);
    for w in config.warnings() {
        tracing::warn!("{w}");
    }
    // Built by hand rather than with #[tokio::main]: dropping a runtime waits for every running spawn_blocking
    // task, so a statvfs stuck on a dead mount would hang the exit; shutdown_timeout bounds that wait.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(run(config));
    runtime.shutdown_timeout(BLOCKING_SHUTDOWN_TIMEOUT);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "exporter failed");
            ExitCode::from(2)
        }
    }
}

/// `conflux-pos-exporter preflight`: one request to the exporter, the verdict's exit code.
fn preflight(a: &config::PreflightArgs) -> ExitCode {
    use conflux_pos_exporter::preflight::command::{run, Ask};
    use conflux_pos_exporter::preflight::Exit;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("preflight: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Error as u8);
        }
    };
    let ask = Ask {
        exporter: a.exporter.clone(),
        node: a.node.clone(),
        timeout: a.timeout,
        max_age: a.max_age,
    };
    ExitCode::from(runtime.block_on(run(&ask)) as u8)
}

/// `conflux-pos-exporter upgrade-check ...`: the upgrade walk (read-only), on its own small runtime.
fn upgrade_check(args: &[String]) -> ExitCode {
    use clap::Parser;
    let cli = conflux_pos_exporter::upgrade::UpgradeCli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("upgrade-check: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(runtime.block_on(conflux_pos_exporter::upgrade::run(cli)))
}

async fn run(config: config::Config) -> anyhow::Result<()> {
    let app = App::start(config).await?;
    shutdown_signal().await?;
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
