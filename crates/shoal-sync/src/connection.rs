//! One authenticated WebSocket to the relay.

use crate::{RelayConfig, SyncError, CLIENT_NAME};
use futures_util::{SinkExt, StreamExt};
use shoal_protocol::parts::{self, Reassembly};
use shoal_protocol::{
    decode, encode, ClientMessage, RelayMessage, MAX_FRAME_BYTES, PROTOCOL_VERSION,
};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long connecting and the hello may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the relay said on accepting the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The token's team.
    pub team_id: String,
    /// The token's agent.
    pub agent_id: String,
    /// The team's newest feed sequence.
    pub head: u64,
}

/// An authenticated connection.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    url: String,
    sent: u64,
    received: u64,
    /// A sync message from the relay arriving in parts.
    parts: Reassembly,
    /// Sync messages longer than this go in parts (from the relay's frame
    /// limit).
    part_bytes: usize,
}

/// The sync endpoint of a relay address. A bare host gets TLS (`wss://`)
/// unless it is this machine: the token must not cross a network in the
/// clear by default. Plain `ws://` elsewhere takes saying so.
fn sync_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_owned()
    } else if is_loopback(base) {
        format!("ws://{base}")
    } else {
        format!("wss://{base}")
    };
    if base.ends_with("/v1/sync") {
        base
    } else {
        format!("{base}/v1/sync")
    }
}

/// Connects and authenticates.
pub async fn connect(cfg: &RelayConfig) -> Result<(Connection, Welcome), SyncError> {
    let url = sync_url(&cfg.url);
    let unreachable = |reason: String| SyncError::Unreachable {
        url: url.clone(),
        reason,
    };
    let (ws, _) = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        // Small messages both ways, latency matters: no Nagle delay.
        tokio_tungstenite::connect_async_with_config(url.as_str(), None, true),
    )
    .await
    .map_err(|_| unreachable("timed out".into()))?
    .map_err(|e| unreachable(e.to_string()))?;
    let mut conn = Connection {
        ws,
        url: url.clone(),
        sent: 0,
        received: 0,
        // The relay is trusted to send what its documents need.
        parts: Reassembly::new(usize::MAX),
        part_bytes: parts::part_bytes(MAX_FRAME_BYTES),
    };
    conn.send(&ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        token: cfg.token.clone(),
        client: CLIENT_NAME.into(),
        capabilities: shoal_protocol::CAPABILITIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
    .await?;
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.recv())
        .await
        .map_err(|_| unreachable("no answer to hello".into()))??;
    match first {
        Some(RelayMessage::Welcome {
            team_id,
            agent_id,
            head,
            max_frame,
            ..
        }) => Ok((
            Connection {
                part_bytes: parts::part_bytes(max_frame.map_or(MAX_FRAME_BYTES, |m| m as usize)),
                ..conn
            },
            Welcome {
                team_id,
                agent_id,
                head,
            },
        )),
        Some(RelayMessage::Error { code, message }) => Err(SyncError::Refused { code, message }),
        Some(other) => Err(SyncError::Lost(format!("expected welcome, got {other:?}"))),
        None => Err(SyncError::Lost(
            "the relay closed the connection during hello".into(),
        )),
    }
}

impl Connection {
    /// Sends one message; a sync message too large for one frame goes in
    /// parts.
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), SyncError> {
        match message {
            ClientMessage::Sync { doc, data, restart } if data.len() > self.part_bytes => {
                for (part, count, chunk) in parts::split(data, self.part_bytes) {
                    let piece = ClientMessage::SyncPart {
                        doc: doc.clone(),
                        part,
                        parts: count,
                        data: chunk.to_vec(),
                        restart: *restart,
                    };
                    self.send_frame(&piece).await?;
                }
                Ok(())
            }
            _ => self.send_frame(message).await,
        }
    }

    async fn send_frame(&mut self, message: &ClientMessage) -> Result<(), SyncError> {
        let frame = encode(message);
        self.sent += frame.len() as u64;
        self.ws
            .send(Message::Binary(frame.into()))
            .await
            .map_err(|e| SyncError::Lost(e.to_string()))
    }

    /// The next message, or `None` when the relay closed the connection.
    pub async fn recv(&mut self) -> Result<Option<RelayMessage>, SyncError> {
        loop {
            match self.ws.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Ok(Message::Binary(frame))) => {
                    self.received += frame.len() as u64;
                    let message = decode::<RelayMessage>(&frame, MAX_FRAME_BYTES)
                        .map_err(|e| SyncError::Lost(format!("bad frame from the relay: {e}")))?;
                    // Parts of a large sync message come back as one.
                    if let RelayMessage::SyncPart {
                        doc,
                        part,
                        parts,
                        data,
                    } = message
                    {
                        match self.parts.push(doc, part, parts, data) {
                            Ok(Some((doc, data))) => {
                                return Ok(Some(RelayMessage::Sync { doc, data }))
                            }
                            Ok(None) => continue,
                            Err(e) => return Err(SyncError::Lost(e.to_string())),
                        }
                    }
                    return Ok(Some(message));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(SyncError::Lost(e.to_string())),
            }
        }
    }

    /// Closes politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Message bytes sent and received so far (WebSocket payloads, the
    /// hello and welcome included).
    pub fn bytes(&self) -> (u64, u64) {
        (self.sent, self.received)
    }

    /// The URL this connection went to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Whether `host[:port]` names this machine.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        // [::1]:7300
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::sync_url;

    #[test]
    fn urls_are_normalised() {
        assert_eq!(
            sync_url("ws://127.0.0.1:7300"),
            "ws://127.0.0.1:7300/v1/sync"
        );
        assert_eq!(
            sync_url("http://relay.example/"),
            "ws://relay.example/v1/sync"
        );
        assert_eq!(
            sync_url("https://relay.example"),
            "wss://relay.example/v1/sync"
        );
        assert_eq!(sync_url("127.0.0.1:7300"), "ws://127.0.0.1:7300/v1/sync");
        assert_eq!(sync_url("localhost:7300"), "ws://localhost:7300/v1/sync");
        assert_eq!(sync_url("[::1]:7300"), "ws://[::1]:7300/v1/sync");
        assert_eq!(sync_url("ws://h/v1/sync"), "ws://h/v1/sync");
    }

    /// Before: a bare host got plain `ws://`, sending the token in the clear.
    #[test]
    fn a_bare_host_elsewhere_gets_tls() {
        assert_eq!(
            sync_url("relay.example:7300"),
            "wss://relay.example:7300/v1/sync"
        );
        assert_eq!(sync_url("10.0.0.5:7300"), "wss://10.0.0.5:7300/v1/sync");
        assert_eq!(
            sync_url("ws://relay.example:7300"),
            "ws://relay.example:7300/v1/sync",
            "plain only when asked for"
        );
    }
}
