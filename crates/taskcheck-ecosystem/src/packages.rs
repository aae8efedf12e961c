//! The pinned list of packages the ecosystem check lints.

/// What a package is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A library other code builds on.
    Library,
    /// An application or service (a binary, or the crate holding a service's code).
    Application,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Library => "library",
            Kind::Application => "application",
        }
    }
}

/// One pinned package of crates.io.
#[derive(Debug)]
pub struct Package {
    pub name: &'static str,
    /// The exact version: the report only changes when this list or taskcheck changes.
    pub version: &'static str,
    pub kind: Kind,
    /// What it is, for the report.
    pub what: &'static str,
}

impl Package {
    /// `name-version`, the package's directory name in cargo's registry.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

const fn lib(name: &'static str, version: &'static str, what: &'static str) -> Package {
    Package { name, version, kind: Kind::Library, what }
}

const fn app(name: &'static str, version: &'static str, what: &'static str) -> Package {
    Package { name, version, kind: Kind::Application, what }
}

/// The packages, sorted by name. Versions are the newest stable ones when the list was
/// made; bump them deliberately and re-run the check (and the triage).
pub const PACKAGES: &[Package] = &[
    lib("actix-http", "3.20.0", "actix-web's HTTP layer"),
    lib("actix-rt", "2.15.0", "actix's runtime (thread-per-core tokio)"),
    lib("actix-server", "2.10.0", "actix's TCP server and workers"),
    lib("actix-web", "4.18.1", "web framework"),
    lib("async-nats", "0.51.0", "NATS client with connection tasks"),
    lib("async-std", "1.13.2", "runtime"),
    app("atuin-server", "18.24.4", "shell-history sync server (axum)"),
    lib("axum", "0.8.9", "web framework"),
    app("bandwhich", "0.23.1", "network utilization TUI (threads)"),
    lib("bb8", "0.9.1", "async connection pool with a reaper task"),
    app("bore-cli", "0.6.0", "TCP tunnel client and server (tokio)"),
    app("bottom", "0.15.0", "system monitor TUI (collector threads)"),
    lib("deadpool", "0.13.1", "async connection pool"),
    app("dufs", "0.47.0", "file server (hyper)"),
    app("gitui", "0.28.1", "git TUI (worker threads, channels)"),
    app("hickory-dns", "0.26.3", "DNS server binary"),
    app("hickory-server", "0.26.3", "the DNS server's service code"),
    lib("hyper", "1.12.0", "HTTP implementation"),
    lib("hyper-util", "0.1.21", "hyper's client, server and runtime glue"),
    lib("jsonrpsee-server", "0.26.1", "JSON-RPC server"),
    lib("lapin", "4.12.3", "AMQP client"),
    lib("metrics-exporter-prometheus", "0.18.3", "Prometheus exporter with an upkeep task"),
    app("mini-redis", "0.4.1", "tokio's example Redis server and client"),
    app("miniserve", "0.35.0", "file server (actix-web)"),
    lib("moka", "0.12.16", "concurrent cache with housekeeper threads"),
    app("ncspot", "1.5.0", "Spotify TUI client (tokio, threads)"),
    lib("notify", "8.2.2", "file watcher with event-loop threads"),
    app("oha", "1.16.0", "HTTP load generator (tokio, hyper)"),
    lib("opentelemetry_sdk", "0.33.1", "telemetry SDK with background exporters"),
    app("pict-rs", "0.5.25", "image hosting service (actix-web)"),
    lib("quinn", "0.11.12", "QUIC implementation with endpoint drivers"),
    lib("r2d2", "0.8.10", "sync connection pool with a reaper thread"),
    app("rathole", "0.5.0", "NAT traversal reverse proxy (tokio)"),
    lib("rdkafka", "0.39.0", "Kafka client with polling threads"),
    lib("redis", "1.8.1", "Redis client with async connection managers"),
    lib("reqwest", "0.13.5", "HTTP client"),
    lib("rumqttc", "0.25.1", "MQTT client event loop"),
    app("rumqttd", "0.20.0", "MQTT broker (threads, tokio)"),
    app("rustypaste", "0.18.1", "file upload and paste service (actix-web)"),
    app("sccache", "0.19.0", "compiler cache with a local server (tokio, threads)"),
    lib("sentry", "0.49.5", "error reporting with a transport thread"),
    app("shadowsocks-rust", "1.25.0", "proxy binaries (sslocal, ssserver, ssmanager)"),
    app("shadowsocks-service", "1.25.0", "the proxy's service code"),
    lib("smol", "2.0.2", "small runtime"),
    app("sonic-server", "1.10.2", "search backend (threads, tasker loops)"),
    app("spotifyd", "0.4.2", "Spotify daemon (tokio)"),
    lib("sqlx", "0.9.0", "SQL toolkit"),
    lib("sqlx-core", "0.9.0", "sqlx's pool, runtime glue and connections"),
    app("static-web-server", "2.44.1", "static file server (hyper)"),
    lib("tokio", "1.54.1", "runtime"),
    app("tokio-console", "0.1.14", "task monitor TUI (tonic client)"),
    lib("tokio-util", "0.7.20", "tokio utilities (CancellationToken, codecs)"),
    lib("tonic", "0.14.9", "gRPC"),
    lib("tower", "0.5.3", "service middleware (buffer workers, balancers)"),
    lib("tracing-appender", "0.2.5", "non-blocking log writer thread"),
    lib("warp", "0.4.3", "web framework"),
    app("websocat", "1.14.1", "WebSocket netcat (tokio 0.1, futures 0.1)"),
    app("xh", "0.26.3", "HTTP client CLI (reqwest)"),
];

/// Files that do not parse on purpose, with the reason: `name-version/path`, or a
/// directory ending in `/` for every file under it. A parse failure not listed here is a
/// taskcheck bug (or a new fixture to look at and list).
pub const KNOWN_PARSE_FAILURES: &[(&str, &str)] = &[(
    "lapin-4.12.3/templates/",
    "Handlebars templates (`{{#each ..}}`) and doc-comment fragments that lapin's build.rs renders \
     into Rust with amq-protocol-codegen: code-generator input named `.rs`, not Rust source",
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_pinned_and_has_enough_applications() {
        let names: Vec<&str> = PACKAGES.iter().map(|p| p.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted, "PACKAGES must be sorted by name, each once");
        for p in PACKAGES {
            let parts: Vec<&str> = p.version.split('.').collect();
            assert!(
                parts.len() == 3 && parts.iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())),
                "{} {} is not an exact stable version",
                p.name,
                p.version
            );
        }
        assert!(PACKAGES.iter().filter(|p| p.kind == Kind::Application).count() >= 10);
    }
}
