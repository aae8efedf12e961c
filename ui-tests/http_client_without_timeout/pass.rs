//! HTTP clients that are bounded, or that are not reqwest's async client at all: builders
//! with `.timeout(..)` / `.read_timeout(..)` (in the chain or in a later statement),
//! clients whose every request sets its own timeout, reqwest's blocking client (30 s
//! default), builders returned un-built, other crates' `Client::builder()`, ureq agents
//! with timeouts, and test code. None of these is reported.

use std::time::Duration;

use reqwest::{Client, ClientBuilder, Url};
use serde::Deserialize;

const USER_AGENT: &str = concat!("acme-platform/", env!("CARGO_PKG_VERSION"));

/// Webhook client: every delivery is bounded by the client-wide timeout.
pub fn webhook_client() -> reqwest::Result<Client> {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
        .build()
}

/// S3 downloads stream large objects: a total timeout would cut them off, so the
/// client bounds each read instead.
pub fn s3_download_client() -> reqwest::Result<Client> {
    reqwest::ClientBuilder::new().read_timeout(Duration::from_secs(30)).pool_max_idle_per_host(8).build()
}

pub struct PspConfig {
    pub proxy: Option<String>,
    pub request_timeout: Duration,
}

/// Payment provider client; the timeout is added in a later statement.
pub fn psp_client(cfg: &PspConfig) -> reqwest::Result<Client> {
    let mut builder = Client::builder().user_agent(USER_AGENT).https_only(true);
    if let Some(proxy) = &cfg.proxy {
        builder = builder.proxy(reqwest::Proxy::https(proxy)?);
    }
    builder = builder.timeout(cfg.request_timeout);
    let client = builder.build()?;
    Ok(client)
}

pub struct CrawlerConfig {
    pub page_timeout: Option<Duration>,
}

/// Crawler client: the timeout is configurable; it is still set on this builder.
pub fn crawler_client(cfg: &CrawlerConfig) -> reqwest::Result<Client> {
    let mut builder = Client::builder().user_agent(USER_AGENT).gzip(true);
    builder = builder.timeout(cfg.page_timeout.unwrap_or(Duration::from_secs(20)));
    builder.build()
}

pub struct ExportConfig {
    pub timeout: Option<Duration>,
}

/// Export client: the timeout is set only when configured, but it is set on this
/// builder (an explicit "no timeout" is the operator's choice).
pub fn export_client(cfg: &ExportConfig) -> reqwest::Result<Client> {
    let mut builder = ClientBuilder::new().user_agent(USER_AGENT);
    if let Some(timeout) = cfg.timeout {
        builder = builder.timeout(timeout);
    }
    builder.build()
}

/// Shared defaults for every client of the platform. Not built here: each caller adds
/// its own timeout before `.build()`.
pub fn base_builder() -> ClientBuilder {
    Client::builder().user_agent(USER_AGENT).https_only(true).tcp_keepalive(Duration::from_secs(60))
}

pub fn search_client() -> reqwest::Result<Client> {
    base_builder().timeout(Duration::from_secs(5)).build()
}

#[derive(Deserialize)]
pub struct FxRates {
    pub base: String,
    pub rates: std::collections::HashMap<String, f64>,
}

/// Fetches spot and forward FX rates. The client has no timeout, but every request
/// sent with it in this fn sets one.
pub async fn fetch_rates(base: &Url) -> reqwest::Result<(FxRates, FxRates)> {
    let client = Client::new();
    let spot = client
        .get(base.join("v2/spot").expect("static path"))
        .timeout(Duration::from_secs(3))
        .send()
        .await?
        .json()
        .await?;
    let forward = client
        .request(reqwest::Method::GET, base.join("v2/forward").expect("static path"))
        .timeout(Duration::from_secs(3))
        .send()
        .await?
        .json()
        .await?;
    Ok((spot, forward))
}

/// Posts a refund with its own per-request deadline.
pub async fn post_refund(endpoint: Url, charge_id: &str) -> reqwest::Result<bool> {
    let http = Client::default();
    let resp = http.post(endpoint).form(&[("charge", charge_id)]).timeout(Duration::from_secs(15)).send().await?;
    Ok(resp.status().is_success())
}

/// The CLI's sync uploader uses the blocking client, which times out after 30 s.
pub fn upload_report_blocking(url: &str, body: Vec<u8>) -> reqwest::Result<u16> {
    let client = reqwest::blocking::Client::new();
    Ok(client.put(url).body(body).send()?.status().as_u16())
}

pub fn blocking_admin_client() -> reqwest::Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder().user_agent(USER_AGENT).build()
}

/// A fn-local import of the blocking client shadows the file's `reqwest::Client`.
pub fn fetch_license(url: &str) -> reqwest::Result<String> {
    use reqwest::blocking::Client;
    let client = Client::builder().user_agent(USER_AGENT).build()?;
    client.get(url).send()?.text()
}

type ProxyClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

/// The reverse proxy's upstream client (hyper-util, not reqwest; its builder also ends
/// in `.build(..)`).
pub fn upstream_client() -> ProxyClient {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(2)));
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// actix's awc client and redis's client also have a `Client::builder()`/`open`.
pub fn awc_client() -> awc::Client {
    awc::Client::builder().add_default_header(("User-Agent", USER_AGENT)).finish()
}

pub fn cache_client(url: &str) -> redis::RedisResult<redis::Client> {
    redis::Client::open(url)
}

/// ureq agents with timeouts.
pub fn sitemap_agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .user_agent(USER_AGENT)
        .timeout_read(Duration::from_secs(10))
        .timeout_write(Duration::from_secs(10))
        .build()
}

pub fn robots_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).redirects(3).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn webhook_receiver_answers() {
        // Test code: a default client against a local mock is fine.
        let server = wiremock::MockServer::start().await;
        let client = reqwest::Client::new();
        let resp = client.get(server.uri()).send().await.unwrap();
        assert_eq!(resp.status(), 404);
        let body = reqwest::get(server.uri()).await.unwrap().text().await.unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn builder_builds() {
        let client = Client::builder().user_agent(USER_AGENT).build();
        assert!(client.is_ok());
        let _agent = ureq::agent();
    }
}
