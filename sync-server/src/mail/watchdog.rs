//! A connection that fails when the mail server goes silent.
//!
//! `async-imap` waits for an answer as long as the TCP connection lives, so
//! a server (or a network path) that stops answering mid-command would hold
//! a mailbox's reading task forever. [`Watchdog`] wraps the TCP stream, under
//! TLS, and fails a read or write that makes no progress for the limit with
//! `TimedOut`; the session then ends and reconnects. It measures silence,
//! not total time, so a large message on a slow link is fine as long as
//! bytes keep coming. IMAP IDLE is legitimately silent for many minutes:
//! [`Patience::pause`] turns the watchdog off around it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The watchdog's limit, shared with the code driving the session.
#[derive(Clone, Debug)]
pub(crate) struct Patience {
    limit: Duration,
    /// The limit in milliseconds while watching, 0 while paused.
    active_ms: Arc<AtomicU64>,
}

impl Patience {
    /// A limit of `limit` (at least one millisecond), watching.
    pub(crate) fn new(limit: Duration) -> Patience {
        let ms = (limit.as_millis() as u64).max(1);
        Patience {
            limit,
            active_ms: Arc::new(AtomicU64::new(ms)),
        }
    }

    /// Stops watching (while the server may rightly say nothing).
    pub(crate) fn pause(&self) {
        self.active_ms.store(0, Ordering::SeqCst);
    }

    /// Watches again.
    pub(crate) fn resume(&self) {
        let ms = (self.limit.as_millis() as u64).max(1);
        self.active_ms.store(ms, Ordering::SeqCst);
    }

    fn current(&self) -> Option<Duration> {
        match self.active_ms.load(Ordering::SeqCst) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
}

/// A stream whose reads and writes fail after the limit without progress.
#[derive(Debug)]
pub(crate) struct Watchdog<S> {
    inner: S,
    patience: Patience,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> Watchdog<S> {
    pub(crate) fn new(inner: S, patience: Patience) -> Watchdog<S> {
        Watchdog {
            inner,
            patience,
            read_timer: None,
            write_timer: None,
        }
    }
}

/// Polls the timer of an operation that is pending: `Ready(Err)` once the
/// limit has passed without progress.
fn still_waiting<T>(
    timer: &mut Option<Pin<Box<Sleep>>>,
    patience: &Patience,
    cx: &mut Context<'_>,
    what: &str,
) -> Poll<io::Result<T>> {
    let Some(limit) = patience.current() else {
        *timer = None;
        return Poll::Pending;
    };
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
    match sleep.as_mut().poll(cx) {
        Poll::Ready(()) => {
            *timer = None;
            Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the mail server {what} for {} s; giving up on this connection",
                    limit.as_secs_f32()
                ),
            )))
        }
        Poll::Pending => Poll::Pending,
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watchdog<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                still_waiting(&mut this.read_timer, &this.patience, cx, "sent nothing")
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watchdog<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                still_waiting(&mut this.write_timer, &this.patience, cx, "took nothing")
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                still_waiting(&mut this.write_timer, &this.patience, cx, "took nothing")
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_fails_the_read_after_the_limit() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut stream = Watchdog::new(ours, Patience::new(Duration::from_secs(5)));
        theirs.write_all(b"* OK").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        let started = tokio::time::Instant::now();
        let err = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_but_steady_bytes_never_time_out() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut stream = Watchdog::new(ours, Patience::new(Duration::from_secs(5)));
        tokio::spawn(async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                theirs.write_all(b"x").await.unwrap();
            }
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 1];
        while got.len() < 10 {
            stream.read_exact(&mut buf).await.unwrap();
            got.push(buf[0]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_watchdog_waits_as_long_as_it_takes() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let patience = Patience::new(Duration::from_secs(5));
        let mut stream = Watchdog::new(ours, patience.clone());
        patience.pause();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(600)).await;
            theirs.write_all(b"x").await.unwrap();
            // Open but silent from here on.
            tokio::time::sleep(Duration::from_secs(100_000)).await;
        });
        let mut buf = [0u8; 1];
        stream.read_exact(&mut buf).await.unwrap();
        patience.resume();
        assert_eq!(
            stream.read(&mut buf).await.unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_fails_the_write() {
        let (ours, _theirs) = tokio::io::duplex(8);
        let mut stream = Watchdog::new(ours, Patience::new(Duration::from_secs(5)));
        let err = stream.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
