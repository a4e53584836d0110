//! A TCP proxy on 127.0.0.1 that breaks connections at chosen points of a
//! protocol exchange: the network failing in the middle of an IMAP `FETCH`
//! or an SMTP `DATA`, which no real server does on request.
//!
//! ```text
//!   relay ──▶ FaultProxy :port ──▶ server :target
//! ```
//!
//! Every byte is forwarded unchanged until a queued [`Fault`] matches: its
//! trigger appears in what the client sends. Faults fire once each, in the
//! order they were queued, on whichever connection matches first; later
//! connections pass untouched, so the client's reconnect is what a test
//! then watches. Plain-text protocols only (a trigger cannot be seen
//! through TLS).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// What happens once a fault's trigger is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Both sides are closed before the trigger reaches the server: the
    /// server sees the command (or the end of the message) never arrive.
    CutBefore,
    /// The trigger goes through, then `n` bytes of the server's answer,
    /// then both sides are closed: the client loses the answer mid-way.
    CutAfterReply(usize),
    /// What precedes the trigger goes through; then nothing more in either
    /// direction while both sockets stay open: a network that stops
    /// carrying the client's data mid-command.
    StallBefore,
    /// The trigger goes through, then `n` bytes of the server's answer;
    /// then nothing more in either direction while both sockets stay open,
    /// until the client gives up and closes its side: a stalled server.
    StallAfterReply(usize),
}

/// A break in the exchange: `action` when the client sends `trigger`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Bytes of the client's stream that set the fault off (e.g.
    /// `b"UID FETCH"`); found even when split across reads.
    pub trigger: Vec<u8>,
    /// What the proxy does then.
    pub action: Action,
}

impl Fault {
    /// `action` when the client sends `trigger`.
    pub fn new(trigger: &[u8], action: Action) -> Fault {
        Fault {
            trigger: trigger.to_vec(),
            action,
        }
    }
}

#[derive(Default)]
struct Shared {
    queued: Vec<Fault>,
    fired: Vec<Fault>,
    connections: usize,
    sockets: Vec<TcpStream>,
}

/// The proxy; stops (closing every connection) on drop.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `127.0.0.1:target`.
    pub fn start(target: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                        // The server is down: so is the proxied port.
                        continue;
                    };
                    {
                        let mut s = lock(&shared);
                        s.connections += 1;
                        s.sockets.extend(client.try_clone().ok());
                        s.sockets.extend(server.try_clone().ok());
                    }
                    connect(client, server, shared.clone());
                }
            })
        };
        FaultProxy {
            port,
            shared,
            stop,
            accept: Some(accept),
        }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Queues faults; each fires once, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.shared).queued.extend(faults);
    }

    /// The faults that have fired so far, in order.
    pub fn fired(&self) -> Vec<Fault> {
        lock(&self.shared).fired.clone()
    }

    /// How many faults are still waiting for their trigger.
    pub fn pending(&self) -> usize {
        lock(&self.shared).queued.len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.shared).connections
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for s in lock(&self.shared).sockets.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One connection's state, shared by its two pumps.
#[derive(Default)]
struct Link {
    /// Set when a fault fired on this connection and waits for the answer.
    armed: Option<(Action, usize)>,
    /// Nothing is forwarded any more (a stall).
    stalled: bool,
}

fn connect(client: TcpStream, server: TcpStream, shared: Arc<Mutex<Shared>>) {
    let link = Arc::new(Mutex::new(Link::default()));
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    {
        let link = link.clone();
        std::thread::spawn(move || upstream(client, server, &shared, &link));
    }
    std::thread::spawn(move || downstream(s2, c2, &link));
}

fn close(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Client → server, watching for the next fault's trigger.
fn upstream(
    mut client: TcpStream,
    mut server: TcpStream,
    shared: &Mutex<Shared>,
    link: &Mutex<Link>,
) {
    let mut buf = [0u8; 16 * 1024];
    // The end of what was already forwarded, for triggers split across reads.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => return close(&client, &server),
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if lock_link(link).stalled {
            continue;
        }
        let mut window = tail.clone();
        window.extend_from_slice(chunk);
        let fired = {
            let mut s = lock(shared);
            let hit = s
                .queued
                .first()
                .filter(|f| !f.trigger.is_empty() && lock_link(link).armed.is_none())
                .and_then(|f| find(&window, &f.trigger));
            match hit {
                Some(at) => {
                    let fault = s.queued.remove(0);
                    s.fired.push(fault.clone());
                    Some((fault.action, at as isize - tail.len() as isize))
                }
                None => None,
            }
        };
        match fired {
            Some((Action::CutBefore, at)) => {
                // Whatever of the trigger was in `tail` has gone through already.
                let _ = server.write_all(&chunk[..at.max(0) as usize]);
                return close(&client, &server);
            }
            Some((Action::StallBefore, at)) => {
                let _ = server.write_all(&chunk[..at.max(0) as usize]);
                lock_link(link).stalled = true;
                continue;
            }
            Some((action @ (Action::CutAfterReply(k) | Action::StallAfterReply(k)), _)) => {
                lock_link(link).armed = Some((action, k));
            }
            None => {}
        }
        if server.write_all(chunk).is_err() {
            return close(&client, &server);
        }
        let keep = lock(shared)
            .queued
            .first()
            .map_or(0, |f| f.trigger.len().saturating_sub(1));
        window.drain(..window.len().saturating_sub(keep));
        tail = window;
    }
}

/// Server → client, letting an armed fault's share of the answer through.
fn downstream(mut server: TcpStream, mut client: TcpStream, link: &Mutex<Link>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => return close(&client, &server),
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        let mut done = None;
        {
            let mut l = lock_link(link);
            if l.stalled {
                continue;
            }
            if let Some((action, left)) = l.armed {
                let pass = left.min(chunk.len());
                chunk = &chunk[..pass];
                if pass == left {
                    l.armed = None;
                    done = Some(action);
                    if matches!(action, Action::StallAfterReply(_)) {
                        l.stalled = true;
                    }
                } else {
                    l.armed = Some((action, left - pass));
                }
            }
        }
        if client.write_all(chunk).is_err() {
            return close(&client, &server);
        }
        if let Some(Action::CutAfterReply(_)) = done {
            return close(&client, &server);
        }
    }
}

fn lock_link(link: &Mutex<Link>) -> std::sync::MutexGuard<'_, Link> {
    link.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An echo server that answers each read with "OK " + the bytes.
    fn echo() -> u16 {
        echo_recording().0
    }

    /// [`echo`], also keeping every byte it received.
    fn echo_recording() -> (u16, Arc<Mutex<Vec<u8>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let seen = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let mut s = s.unwrap();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = s.read(&mut buf) {
                        seen.lock().unwrap().extend_from_slice(&buf[..n]);
                        let mut out = b"OK ".to_vec();
                        out.extend_from_slice(&buf[..n]);
                        if s.write_all(&out).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (port, got)
    }

    fn read_all(s: &mut TcpStream) -> Vec<u8> {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(&out)),
            }
        }
    }

    #[test]
    fn passes_everything_until_a_trigger() {
        let proxy = FaultProxy::start(echo());
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"hello").unwrap();
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"OK hello");
        assert_eq!(proxy.connections(), 1);
        assert!(proxy.fired().is_empty());
    }

    #[test]
    fn cut_after_reply_lets_n_bytes_through() {
        let proxy = FaultProxy::start(echo());
        proxy.inject([Fault::new(b"FETCH", Action::CutAfterReply(4))]);
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"a FE").unwrap();
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).unwrap();
        // The trigger split across two writes is still found.
        s.write_all(b"TCH 1").unwrap();
        assert_eq!(read_all(&mut s), b"OK T");
        assert_eq!(proxy.pending(), 0);
        // The next connection passes.
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"FETCH").unwrap();
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"OK FETCH");
    }

    #[test]
    fn cut_before_forwards_only_what_precedes_the_trigger() {
        let (port, got) = echo_recording();
        let proxy = FaultProxy::start(port);
        proxy.inject([Fault::new(b"\r\n.\r\n", Action::CutBefore)]);
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"body\r\n.\r\nQUIT").unwrap();
        // The client sees its connection closed, the server only "body".
        let answer = read_all(&mut s);
        assert!(b"OK body".starts_with(&answer), "{answer:?}");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(*got.lock().unwrap(), b"body");
    }

    #[test]
    fn a_stall_before_holds_back_the_trigger_and_everything_after() {
        let (port, got) = echo_recording();
        let proxy = FaultProxy::start(port);
        proxy.inject([Fault::new(b"\r\n.\r\n", Action::StallBefore)]);
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"body\r\n.\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        assert!(s.read(&mut [0u8; 8]).is_err(), "nothing comes back");
        s.write_all(b"more").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(*got.lock().unwrap(), b"body");
    }

    #[test]
    fn a_stall_keeps_the_connection_open_and_silent() {
        let proxy = FaultProxy::start(echo());
        proxy.inject([Fault::new(b"DATA", Action::StallAfterReply(2))]);
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        s.write_all(b"DATA").unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"OK");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let err = s.read(&mut [0u8; 8]).unwrap_err();
        assert!(matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ));
    }
}
