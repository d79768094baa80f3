//! Entry point: flags -> config -> logging -> app; waits for SIGINT/SIGTERM and shuts down gracefully.
//! Exit codes: 0 ok, 1 bad configuration, 2 runtime failure at start.

use std::process::ExitCode;

use clap::Parser;
use conflux_pos_exporter::app::App;
use conflux_pos_exporter::config::{self, Cli, LogFormat};
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("conflux-pos-exporter: invalid configuration: {e}");
            return ExitCode::from(1);
        }
    };
    if cli.config_check {
        println!("# configuration is valid (secrets redacted)\n{config}");
        return ExitCode::SUCCESS;
    }
    init_logging(&config.log_level, config.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "exporter failed");
            ExitCode::from(2)
        }
    }
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
