//! A loopback stand-in for the chat services Alertmanager's native receivers talk to (Telegram's Bot API, a
//! Discord webhook, WeCom's message API) and for the webhook bridges (DingTalk, Feishu): it records every request
//! as sent (method, path and query, body) and answers the way the service does on success, so Alertmanager
//! renders its templates and delivers the message exactly as it would to the real service.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query, e.g. `/wechat/message/send?access_token=...`.
    pub target: String,
    /// The body as text.
    pub body: String,
}

impl Received {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// A running sink; stops when dropped.
pub struct ChatSink {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    log: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl ChatSink {
    /// Binds a loopback port and starts serving.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the chat sink port");
        let addr = listener.local_addr().expect("chat sink address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&log)));
        Self {
            base: format!("http://{addr}"),
            log,
            task,
        }
    }

    /// Every request so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until a request matches `pred`; returns it, or fails after `timeout` listing what arrived.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Received) -> bool,
    ) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.received().into_iter().find(|r| pred(r)) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no request for {what} within {timeout:?}; received:\n{:#?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChatSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, log: Arc<Mutex<Vec<Received>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&log)));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    log: Arc<Mutex<Vec<Received>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(String::new, |p| p.to_string());
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let answer = answer_for(req_path(&target));
    if let Ok(mut l) = log.lock() {
        l.push(Received {
            method,
            target,
            body,
        });
    }
    let mut resp = Response::new(Full::new(Bytes::from(answer)));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn req_path(target: &str) -> &str {
    target.split('?').next().unwrap_or_default()
}

/// What the real service answers on success: WeCom's token and send calls, Telegram's sendMessage (a message
/// object, which Alertmanager's Telegram client decodes); anything else (Discord, the bridges) is happy with an
/// empty JSON object.
fn answer_for(path: &str) -> &'static str {
    if path.ends_with("/gettoken") {
        r#"{"errcode":0,"errmsg":"ok","access_token":"test-access-token","expires_in":7200}"#
    } else if path.ends_with("/message/send") {
        r#"{"errcode":0,"errmsg":"ok"}"#
    } else if path.ends_with("/sendMessage") {
        r#"{"ok":true,"result":{"message_id":1,"date":1700000000,"chat":{"id":-1001234567890,"type":"supergroup"}}}"#
    } else {
        "{}"
    }
}
