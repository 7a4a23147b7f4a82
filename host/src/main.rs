//! `pod-introspect`: runs WebAssembly components in a pod-shaped sandbox and plays the kubelet's
//! Downward API for them. See README.md.

use pod_introspect::{cli, commands};

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let json_logs = matches!(
        &cli.command,
        cli::Command::Proxy(args) if args.log_format == cli::LogFormat::Json
    );
    if json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        // Colour only on a terminal: a sidecar's stderr (`kubectl logs`) gets plain text.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .init();
    }
    // The proxy's --threads; every other command uses a pool with one thread per CPU.
    let threads = match &cli.command {
        cli::Command::Proxy(args) => args.threads,
        _ => 0,
    };
    let mut builder = match threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        0 => tokio::runtime::Builder::new_multi_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            cli::Command::Info(args) => commands::info::run(args).await,
            cli::Command::Run(args) => commands::run::run(args).await,
            cli::Command::Link(args) => commands::link::run(&args),
            cli::Command::Simulate(args) => commands::simulate::run(args).await,
            cli::Command::Demo(args) => commands::demo::run(args).await,
            cli::Command::Api(args) => commands::api::run(args).await,
            cli::Command::DevCluster(args) => commands::dev_cluster::run(args).await,
            cli::Command::Proxy(args) => commands::proxy::run(args).await,
            cli::Command::WatchPod(args) => commands::watch_pod::run(args).await,
        }
    });
    // A guest stopped while blocked in a host call may leave a blocking thread behind (e.g. a
    // read of a FIFO): do not wait for it.
    rt.shutdown_background();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
