//! A small blocking W3C WebDriver client (plain HTTP + JSON over reqwest),
//! enough to drive the desktop app through tauri-driver: sessions, finding
//! elements by CSS, clicks, typing, key chords, attributes, scripts and
//! screenshots, and [`Session::wait_until`], which leaves the page source and
//! a screenshot in `target/e2e-failures/` when it gives up.

use base64::Engine as _;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The W3C key under which an element reference travels.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// W3C key codes for [`Session::press`] and [`Element::send_keys`].
pub mod keys {
    /// Enter.
    pub const ENTER: &str = "\u{E007}";
    /// Escape.
    pub const ESCAPE: &str = "\u{E00C}";
    /// Control (a modifier: held until the end of the sequence).
    pub const CONTROL: &str = "\u{E009}";
    /// Shift.
    pub const SHIFT: &str = "\u{E008}";
    /// Tab.
    pub const TAB: &str = "\u{E004}";
    /// Backspace.
    pub const BACKSPACE: &str = "\u{E003}";
    /// Arrow down.
    pub const DOWN: &str = "\u{E015}";
    /// Arrow up.
    pub const UP: &str = "\u{E013}";
}

/// Toggles an invisible 1-pixel element every 30 ms for 3 s, then removes it.
const NUDGE_REPAINT: &str = "
    const el = document.createElement('div');
    el.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0.01;z-index:-1';
    document.body.appendChild(el);
    let n = 0;
    const timer = setInterval(() => {
        el.style.opacity = n % 2 ? '0.01' : '0.02';
        if (++n > 100) { clearInterval(timer); el.remove(); }
    }, 30);
";

/// An error answered by the driver (or the HTTP layer).
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The W3C error code (`no such element`, …) or `http`.
    pub error: String,
    /// The driver's message.
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl std::error::Error for WebDriverError {}

/// The result of a WebDriver call.
pub type WdResult<T> = Result<T, WebDriverError>;

/// Where failure dumps and screenshots go: the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target
    exe.ancestors()
        .nth(3)
        .expect("target directory")
        .to_path_buf()
}

/// One WebDriver session; deleted on drop (which closes the app).
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
    failures: std::cell::Cell<u32>,
}

/// A reference to an element of the page.
#[derive(Clone)]
pub struct Element<'s> {
    session: &'s Session,
    id: String,
}

fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        // tauri-driver's proxy drops idle keep-alive connections, and a
        // request on a dropped one fails ("IncompleteMessage"): one
        // connection per request (on loopback, nearly free).
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

fn call(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> WdResult<Value> {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().map_err(|e| WebDriverError {
        error: "http".into(),
        message: format!("{url}: {e}"),
    })?;
    let status = resp.status();
    let v: Value = resp.json().map_err(|e| WebDriverError {
        error: "http".into(),
        message: format!("{url}: {status}: body is not JSON: {e}"),
    })?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if !status.is_success() || value.get("error").is_some() {
        return Err(WebDriverError {
            error: value["error"].as_str().unwrap_or("unknown").to_owned(),
            message: value["message"].as_str().unwrap_or("").to_owned(),
        });
    }
    Ok(value)
}

/// `GET url/status` answers `ready: true`.
pub fn driver_ready(base: &str) -> bool {
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("HTTP client");
    matches!(
        call(&http, reqwest::Method::GET, &format!("{base}/status"), None),
        Ok(v) if v["ready"] == true
    )
}

impl Session {
    /// Starts a session on the driver at `base` (`http://127.0.0.1:PORT`)
    /// that launches the application binary `app`.
    pub fn new(base: &str, app: &Path) -> WdResult<Session> {
        let http = http_client();
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": app.to_str().expect("utf-8 path"),
        }}}});
        let v = call(
            &http,
            reqwest::Method::POST,
            &format!("{base}/session"),
            Some(caps),
        )?;
        let id = v["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError {
                error: "protocol".into(),
                message: format!("no sessionId in {v}"),
            })?
            .to_owned();
        Ok(Session {
            http,
            base: base.to_owned(),
            id,
            failures: std::cell::Cell::new(0),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.id, path)
    }

    fn get(&self, path: &str) -> WdResult<Value> {
        call(&self.http, reqwest::Method::GET, &self.url(path), None)
    }

    fn post(&self, path: &str, body: Value) -> WdResult<Value> {
        call(
            &self.http,
            reqwest::Method::POST,
            &self.url(path),
            Some(body),
        )
    }

    fn element(&self, v: &Value) -> WdResult<Element<'_>> {
        let id = v[ELEMENT_KEY].as_str().ok_or_else(|| WebDriverError {
            error: "protocol".into(),
            message: format!("not an element reference: {v}"),
        })?;
        Ok(Element {
            session: self,
            id: id.to_owned(),
        })
    }

    /// The first element matching `css`, if any.
    pub fn find(&self, css: &str) -> WdResult<Option<Element<'_>>> {
        match self.post("/element", json!({"using": "css selector", "value": css})) {
            Ok(v) => self.element(&v).map(Some),
            Err(e) if e.error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every element matching `css`.
    pub fn find_all(&self, css: &str) -> WdResult<Vec<Element<'_>>> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        v.as_array()
            .map(|a| a.iter().map(|e| self.element(e)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// The element matching `css`; panics (with a dump) if there is none.
    #[track_caller]
    pub fn get_el(&self, css: &str) -> Element<'_> {
        match self.find(css) {
            Ok(Some(e)) => e,
            Ok(None) => self.fail(&format!("no element matches {css}")),
            Err(e) => self.fail(&format!("finding {css}: {e}")),
        }
    }

    /// `[data-testid=ID]`.
    pub fn testid(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    /// The element with focus (the body when nothing has it).
    pub fn active(&self) -> WdResult<Element<'_>> {
        let v = self.get("/element/active")?;
        self.element(&v)
    }

    /// Presses `keys` one after the other on whatever has the focus, through
    /// W3C actions, as a person would type them. Modifiers in `keys`
    /// ([`keys::CONTROL`], [`keys::SHIFT`]) stay down until the end.
    pub fn press(&self, keys: &str) -> WdResult<()> {
        let mut actions = Vec::new();
        let mut held = Vec::new();
        for c in keys.chars() {
            let k = c.to_string();
            actions.push(json!({"type": "keyDown", "value": k}));
            if k == keys::CONTROL || k == keys::SHIFT {
                held.push(k);
            } else {
                actions.push(json!({"type": "keyUp", "value": k}));
            }
        }
        for k in held.into_iter().rev() {
            actions.push(json!({"type": "keyUp", "value": k}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )?;
        // Leave nothing pressed for the next call.
        call(
            &self.http,
            reqwest::Method::DELETE,
            &self.url("/actions"),
            None,
        )?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// The page's HTML.
    pub fn source(&self) -> WdResult<String> {
        Ok(self.get("/source")?.as_str().unwrap_or_default().to_owned())
    }

    /// A PNG of the window.
    ///
    /// WebKitGTK takes the snapshot at the next repaint, and a page where
    /// nothing changes (the onboarding form) never repaints: the request
    /// hangs. So the page first gets a few seconds of an invisible change
    /// (a 1-pixel element, removed afterwards) to repaint for.
    pub fn screenshot_png(&self) -> WdResult<Vec<u8>> {
        self.execute(NUDGE_REPAINT, vec![])?;
        let resp = self
            .http
            .get(self.url("/screenshot"))
            .timeout(Duration::from_secs(20))
            .send()
            .map_err(|e| WebDriverError {
                error: "http".into(),
                message: format!("screenshot: {e}"),
            })?;
        let v: Value = resp.json().map_err(|e| WebDriverError {
            error: "http".into(),
            message: format!("screenshot: {e}"),
        })?;
        let v = v.get("value").cloned().unwrap_or(Value::Null);
        if v.get("error").is_some() {
            return Err(WebDriverError {
                error: v["error"].as_str().unwrap_or("unknown").to_owned(),
                message: v["message"].as_str().unwrap_or("").to_owned(),
            });
        }
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| WebDriverError {
                error: "protocol".into(),
                message: format!("screenshot is not base64: {e}"),
            })
    }

    /// Saves a screenshot to `target/screenshots/NAME.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}.png"));
        let png = self
            .screenshot_png()
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Writes the page source and a screenshot to `target/e2e-failures/`
    /// and panics with `what` and where they are.
    #[track_caller]
    pub fn fail(&self, what: &str) -> ! {
        self.failures.set(self.failures.get() + 1);
        let dir = target_dir().join("e2e-failures");
        let _ = std::fs::create_dir_all(&dir);
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let stem = dir.join(format!("{test}-{}", self.failures.get()));
        let source = self
            .source()
            .unwrap_or_else(|e| format!("<page source unavailable: {e}>"));
        let _ = std::fs::write(stem.with_extension("html"), &source);
        if let Ok(png) = self.screenshot_png() {
            let _ = std::fs::write(stem.with_extension("png"), png);
        }
        let excerpt: String = visible_text_excerpt(&source);
        panic!(
            "{what}\n  page source and screenshot: {}.{{html,png}}\n  page text: {excerpt}",
            stem.display()
        );
    }

    /// Polls `check` (every 100 ms) until it returns `Some`, or fails the
    /// test after `timeout` with `what` and a dump. Driver errors count as
    /// "not yet" (elements come and go while Svelte re-renders); the last
    /// one is reported.
    #[track_caller]
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Session) -> WdResult<Option<T>>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut last_err = None;
        loop {
            match check(self) {
                Ok(Some(v)) => return v,
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
            if Instant::now() > deadline {
                let err = last_err
                    .map(|e| format!(" (last driver error: {e})"))
                    .unwrap_or_default();
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for {what}{err}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until an element matches `css` and is displayed.
    #[track_caller]
    pub fn wait_for(&self, css: &str, timeout: Duration) {
        self.wait_until(&format!("{css} to be displayed"), timeout, |s| {
            Ok(match s.find(css)? {
                Some(e) if e.displayed()? => Some(()),
                _ => None,
            })
        })
    }

    /// Waits until nothing matching `css` is displayed.
    #[track_caller]
    pub fn wait_gone(&self, css: &str, timeout: Duration) {
        self.wait_until(&format!("{css} to disappear"), timeout, |s| {
            for e in s.find_all(css)? {
                if e.displayed()? {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        })
    }

    /// Waits until the element matching `css` has `attr` = `value`.
    #[track_caller]
    pub fn wait_attr(&self, css: &str, attr: &str, value: &str, timeout: Duration) {
        let what = format!("{css} to have {attr}={value:?}");
        self.wait_until(&what, timeout, |s| {
            let Some(e) = s.find(css)? else {
                return Ok(None);
            };
            Ok((e.attr(attr)?.as_deref() == Some(value)).then_some(()))
        })
    }

    /// Clicks the element matching `css` (waiting for it first).
    #[track_caller]
    pub fn click(&self, css: &str, timeout: Duration) {
        self.wait_for(css, timeout);
        let r = self.find(css).and_then(|e| match e {
            Some(e) => e.click(),
            None => Err(WebDriverError {
                error: "no such element".into(),
                message: css.into(),
            }),
        });
        if let Err(e) = r {
            self.fail(&format!("clicking {css}: {e}"));
        }
    }

    /// Types `text` into the element matching `css` (waiting for it first).
    #[track_caller]
    pub fn type_into(&self, css: &str, text: &str, timeout: Duration) {
        self.wait_for(css, timeout);
        let r = self.find(css).and_then(|e| match e {
            Some(e) => e.send_keys(text),
            None => Err(WebDriverError {
                error: "no such element".into(),
                message: css.into(),
            }),
        });
        if let Err(e) = r {
            self.fail(&format!("typing into {css}: {e}"));
        }
    }

    /// The text content of the element matching `css` (whitespace
    /// collapsed), or `None`. See [`Element::content`] for why not
    /// WebDriver's visible text.
    pub fn text_of(&self, css: &str) -> WdResult<Option<String>> {
        match self.find(css)? {
            Some(e) => e.content().map(Some),
            None => Ok(None),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = call(
            &self.http,
            reqwest::Method::DELETE,
            &format!("{}/session/{}", self.base, self.id),
            None,
        );
    }
}

impl<'s> Element<'s> {
    fn url(&self, path: &str) -> String {
        self.session.url(&format!("/element/{}{}", self.id, path))
    }

    /// Clicks it.
    pub fn click(&self) -> WdResult<()> {
        call(
            &self.session.http,
            reqwest::Method::POST,
            &self.url("/click"),
            Some(json!({})),
        )
        .map(drop)
    }

    /// Types `text` into it (W3C key codes allowed, modifiers sticky).
    pub fn send_keys(&self, text: &str) -> WdResult<()> {
        call(
            &self.session.http,
            reqwest::Method::POST,
            &self.url("/value"),
            Some(json!({"text": text})),
        )
        .map(drop)
    }

    /// Empties an input or textarea.
    pub fn clear(&self) -> WdResult<()> {
        call(
            &self.session.http,
            reqwest::Method::POST,
            &self.url("/clear"),
            Some(json!({})),
        )
        .map(drop)
    }

    /// Its rendered text.
    pub fn text(&self) -> WdResult<String> {
        let v = call(
            &self.session.http,
            reqwest::Method::GET,
            &self.url("/text"),
            None,
        )?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Its DOM `textContent`, whitespace collapsed. WebKitWebDriver's
    /// visible-text algorithm ([`Element::text`]) drops text inside
    /// `overflow: hidden` boxes with ellipsis (the inbox rows' subjects, the
    /// sync indicator's detail) although the screen shows it; use this with
    /// [`Element::displayed`] on the element itself.
    pub fn content(&self) -> WdResult<String> {
        let v = self.property("textContent")?;
        Ok(v.as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// An attribute (`None` when absent).
    pub fn attr(&self, name: &str) -> WdResult<Option<String>> {
        let v = call(
            &self.session.http,
            reqwest::Method::GET,
            &self.url(&format!("/attribute/{name}")),
            None,
        )?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// A DOM property, such as `value` of an input.
    pub fn property(&self, name: &str) -> WdResult<Value> {
        call(
            &self.session.http,
            reqwest::Method::GET,
            &self.url(&format!("/property/{name}")),
            None,
        )
    }

    /// Whether it is displayed.
    pub fn displayed(&self) -> WdResult<bool> {
        let v = call(
            &self.session.http,
            reqwest::Method::GET,
            &self.url("/displayed"),
            None,
        )?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// Elements matching `css` inside it.
    pub fn find_all(&self, css: &str) -> WdResult<Vec<Element<'s>>> {
        let v = call(
            &self.session.http,
            reqwest::Method::POST,
            &self.url("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        )?;
        v.as_array()
            .map(|a| a.iter().map(|e| self.session.element(e)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// This element as a script argument.
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// The page's text without tags, shortened, for panic messages.
fn visible_text_excerpt(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut skip = false;
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        if lower[i..].starts_with("<script") || lower[i..].starts_with("<style") {
            skip = true;
        }
        if skip && (lower[i..].starts_with("</script>") || lower[i..].starts_with("</style>")) {
            skip = false;
        }
        let c = html[i..].chars().next().unwrap();
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag && !skip => out.push(c),
            _ => {}
        }
        i += c.len_utf8();
    }
    let squashed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    squashed.chars().take(1500).collect()
}
