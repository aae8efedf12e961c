//! `http_client_without_timeout`: async reqwest clients (and ureq agents) built with no
//! overall request timeout. reqwest's async client has none by default, so one stalled
//! peer (a webhook receiver, a payment provider, a slow crawl target) parks the request
//! and everything awaiting it forever. `connect_timeout` and `pool_idle_timeout` do not
//! bound a request; only `.timeout(..)` (or `.read_timeout(..)` for streams) does.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Client, Proxy, Url};
use serde::{Deserialize, Serialize};

const USER_AGENT: &str = concat!("acme-platform/", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
pub struct WebhookEvent<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub payload: serde_json::Value,
}

/// Delivers one event to every subscribed endpoint.
pub async fn dispatch_webhooks(endpoints: &[Url], event: &WebhookEvent<'_>) -> Vec<(Url, bool)> {
    // A receiver that accepts the connection and never answers stalls this fan-out.
    let client = reqwest::Client::new(); //~ http_client_without_timeout
    let mut results = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let ok = client
            .post(endpoint.clone())
            .header("X-Webhook-Id", event.id)
            .json(event)
            .send()
            .await
            .map(|resp| resp.status().is_success())
            .unwrap_or(false);
        results.push((endpoint.clone(), ok));
    }
    results
}

#[derive(Deserialize)]
pub struct ChargeResponse {
    pub id: String,
    pub status: String,
}

/// Client for the card payment provider.
pub struct PaymentGateway {
    http: Client,
    base: Url,
    secret_key: String,
}

impl PaymentGateway {
    pub fn new(base: Url, secret_key: String) -> Self {
        // Stored and used by every method below; none of them sets a request timeout.
        Self { http: Client::new(), base, secret_key } //~ http_client_without_timeout
    }

    pub async fn charge(&self, amount_minor: i64, currency: &str, source: &str) -> reqwest::Result<ChargeResponse> {
        self.http
            .post(self.base.join("v1/charges").expect("static path"))
            .bearer_auth(&self.secret_key)
            .form(&[("amount", amount_minor.to_string()), ("currency", currency.into()), ("source", source.into())])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

#[derive(Deserialize)]
pub struct Jwks {
    pub keys: Vec<serde_json::Value>,
}

/// Caches the identity provider's signing keys.
pub struct JwksFetcher {
    http: Client,
    jwks_uri: Url,
}

impl JwksFetcher {
    pub fn new(jwks_uri: Url) -> Self {
        // `Client::default()` is `Client::new()`: no timeout.
        Self { http: Client::default(), jwks_uri } //~ http_client_without_timeout
    }

    pub async fn fetch(&self) -> reqwest::Result<Jwks> {
        self.http.get(self.jwks_uri.clone()).send().await?.json().await
    }
}

#[derive(Deserialize)]
pub struct OidcDiscovery {
    pub issuer: String,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
}

/// Reads the OpenID discovery document; called at startup, so a stall blocks boot.
pub async fn discover(issuer: &Url) -> reqwest::Result<OidcDiscovery> {
    let url = issuer.join(".well-known/openid-configuration").expect("static path");
    // `reqwest::get` builds a fresh default client: no timeout.
    reqwest::get(url).await?.json().await //~ http_client_without_timeout
}

#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
}

/// Refreshes OAuth access tokens with the client-credentials grant.
pub struct TokenRefresher {
    http: Client,
    token_endpoint: Url,
}

impl TokenRefresher {
    pub fn new(token_endpoint: Url) -> reqwest::Result<Self> {
        // Only the connect phase and idle pooled connections are bounded; a token
        // endpoint that stalls mid-response still hangs every refresh.
        let http = Client::builder() //~ http_client_without_timeout
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(90))
            .https_only(true)
            .build()?;
        Ok(Self { http, token_endpoint })
    }

    pub async fn refresh(&self, client_id: &str, secret: &str) -> reqwest::Result<TokenResponse> {
        let form = [("grant_type", "client_credentials")];
        let req = self.http.post(self.token_endpoint.clone()).basic_auth(client_id, Some(secret)).form(&form);
        req.send().await?.error_for_status()?.json().await
    }
}

pub struct S3Config {
    pub endpoint: Url,
    pub proxy: Option<String>,
    pub accept_invalid_certs: bool,
}

/// Builds the HTTP client for the S3 uploader, following the builder across statements.
pub fn s3_http_client(cfg: &S3Config) -> reqwest::Result<Client> {
    let mut builder = Client::builder().user_agent(USER_AGENT).tcp_keepalive(Duration::from_secs(60)); //~ http_client_without_timeout
    if let Some(proxy) = &cfg.proxy {
        builder = builder.proxy(Proxy::all(proxy)?);
    }
    if cfg.accept_invalid_certs {
        builder = builder.danger_accept_invalid_certs(true);
    }
    let client = builder.build()?;
    Ok(client)
}

/// The same through `ClientBuilder::new()`, used by the archive uploader.
pub fn archive_http_client() -> reqwest::Result<Client> {
    reqwest::ClientBuilder::new().gzip(true).pool_max_idle_per_host(4).build() //~ http_client_without_timeout
}

/// Fetches robots.txt synchronously before the crawl is scheduled.
pub fn fetch_robots(site: &Url) -> Option<String> {
    let robots = site.join("/robots.txt").ok()?;
    // ureq's default agent has no timeouts either.
    let agent = ureq::agent(); //~ http_client_without_timeout
    agent.get(robots.as_str()).call().ok()?.into_string().ok()
}

/// Agent for the sitemap fetcher.
pub fn sitemap_agent() -> ureq::Agent {
    ureq::AgentBuilder::new() //~ http_client_without_timeout
        .user_agent(USER_AGENT)
        .redirects(5)
        .max_idle_connections_per_host(2)
        .build()
}

/// Crawls pages breadth-first from `seed`, up to `limit` pages.
pub async fn crawl(seed: Url, limit: usize) -> HashSet<Url> {
    // Page fetches are bounded, but the HEAD probe below is not: one host that holds
    // the HEAD request open stops the whole crawl.
    let client = Client::new(); //~ http_client_without_timeout
    let mut seen = HashSet::new();
    let mut frontier = vec![seed];
    while let Some(url) = frontier.pop() {
        if seen.len() >= limit || !seen.insert(url.clone()) {
            continue;
        }
        let Ok(head) = client.head(url.clone()).send().await else { continue };
        let is_html = head
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if !is_html {
            continue;
        }
        let Ok(page) = client.get(url.clone()).timeout(Duration::from_secs(10)).send().await else { continue };
        let Ok(body) = page.text().await else { continue };
        for link in body.split("href=\"").skip(1).filter_map(|s| s.split('"').next()) {
            if let Ok(next) = url.join(link) {
                frontier.push(next);
            }
        }
    }
    seen
}
