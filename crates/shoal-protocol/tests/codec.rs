//! The codec round-trips every message and turns any other bytes into an
//! error, never a panic.

use proptest::prelude::*;
use shoal_protocol::{
    decode, encode, ClientMessage, DecodeError, ErrorCode, PresenceState, RelayMessage,
    MAX_FRAME_BYTES, PROTOCOL_VERSION,
};

fn presence() -> impl Strategy<Value = PresenceState> {
    prop_oneof![
        Just(PresenceState::Viewing),
        Just(PresenceState::Composing),
        Just(PresenceState::ComposingNote),
        Just(PresenceState::Idle)
    ]
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (
            any::<u16>(),
            ".{0,80}",
            ".{0,20}",
            prop::collection::vec("[a-z-]{1,20}", 0..4)
        )
            .prop_map(|(protocol, token, client, capabilities)| {
                ClientMessage::Hello {
                    protocol,
                    token,
                    client,
                    capabilities,
                }
            }),
        any::<u64>().prop_map(|cursor| ClientMessage::ChangedSince { cursor }),
        (
            "[a-z]{4}/[0-9a-f]{32}",
            prop::collection::vec(any::<u8>(), 0..512)
        )
            .prop_map(|(doc, data)| ClientMessage::Sync {
                doc,
                data,
                restart: false
            }),
        (
            "[a-z]{4}/[0-9a-f]{32}",
            any::<(u32, u32, bool)>(),
            prop::collection::vec(any::<u8>(), 0..512)
        )
            .prop_map(
                |(doc, (part, parts, restart), data)| ClientMessage::SyncPart {
                    doc,
                    part,
                    parts,
                    data,
                    restart
                }
            ),
        ("[0-9a-f]{32}", presence()).prop_map(|(conversation, state)| ClientMessage::Presence {
            conversation,
            state
        }),
    ]
}

fn relay_message() -> impl Strategy<Value = RelayMessage> {
    let code = prop_oneof![
        Just(ErrorCode::Unauthenticated),
        Just(ErrorCode::Forbidden),
        Just(ErrorCode::FrameTooLarge),
        Just(ErrorCode::Internal)
    ];
    prop_oneof![
        (
            any::<u16>(),
            "[0-9a-f]{32}",
            "[0-9a-f]{32}",
            any::<u64>(),
            any::<Option<u32>>()
        )
            .prop_map(|(protocol, team_id, agent_id, head, max_frame)| {
                RelayMessage::Welcome {
                    protocol,
                    capabilities: vec!["unsupported-message".into()],
                    team_id,
                    agent_id,
                    head,
                    max_frame,
                }
            }),
        (
            prop::collection::vec("[a-z]{4}/[0-9a-f]{32}", 0..20),
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(|(docs, head, more)| RelayMessage::Changed { docs, head, more }),
        (
            "[a-z]{4}/[0-9a-f]{32}",
            prop::collection::vec(any::<u8>(), 0..512)
        )
            .prop_map(|(doc, data)| RelayMessage::Sync { doc, data }),
        (
            "[a-z]{4}/[0-9a-f]{32}",
            any::<(u32, u32)>(),
            prop::collection::vec(any::<u8>(), 0..512)
        )
            .prop_map(|(doc, (part, parts), data)| RelayMessage::SyncPart {
                doc,
                part,
                parts,
                data
            }),
        ("[a-z]{4}/[0-9a-f]{32}", any::<u64>())
            .prop_map(|(doc, seq)| RelayMessage::Ack { doc, seq }),
        ("[0-9a-f]{32}", "[0-9a-f]{32}", presence(), any::<u32>()).prop_map(
            |(agent_id, conversation, state, ttl_ms)| RelayMessage::Presence {
                agent_id,
                conversation,
                state,
                ttl_ms
            }
        ),
        (code, ".{0,100}").prop_map(|(code, message)| RelayMessage::Error { code, message }),
    ]
}

proptest! {
    #[test]
    fn client_messages_round_trip(m in client_message()) {
        let frame = encode(&m);
        prop_assert_eq!(decode::<ClientMessage>(&frame, MAX_FRAME_BYTES).unwrap(), m);
    }

    #[test]
    fn relay_messages_round_trip(m in relay_message()) {
        let frame = encode(&m);
        prop_assert_eq!(decode::<RelayMessage>(&frame, MAX_FRAME_BYTES).unwrap(), m);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode::<ClientMessage>(&bytes, MAX_FRAME_BYTES);
        let _ = decode::<RelayMessage>(&bytes, MAX_FRAME_BYTES);
    }

    #[test]
    fn mutated_frames_never_panic(m in client_message(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut frame = encode(&m);
        for (at, byte) in flips {
            let i = at.index(frame.len());
            frame[i] ^= byte;
        }
        let _ = decode::<ClientMessage>(&frame, MAX_FRAME_BYTES);
        let len = cut.index(frame.len() + 1);
        let _ = decode::<ClientMessage>(&frame[..len], MAX_FRAME_BYTES);
    }
}

#[test]
fn oversized_frames_are_refused_before_parsing() {
    let big = ClientMessage::Sync {
        doc: "conv/x".into(),
        data: vec![7; 1024],
        restart: true,
    };
    let frame = encode(&big);
    assert!(
        matches!(decode::<ClientMessage>(&frame, 100), Err(DecodeError::TooLarge { size, limit: 100 }) if size == frame.len())
    );
}

#[test]
fn unknown_message_types_are_malformed_and_unknown_fields_ignored() {
    #[derive(serde::Serialize)]
    struct Future<'a> {
        r#type: &'a str,
        cursor: u64,
        shiny_new_field: &'a str,
    }
    let frame = encode(&Future {
        r#type: "changed-since",
        cursor: 9,
        shiny_new_field: "x",
    });
    assert_eq!(
        decode::<ClientMessage>(&frame, MAX_FRAME_BYTES).unwrap(),
        ClientMessage::ChangedSince { cursor: 9 }
    );
    let frame = encode(&Future {
        r#type: "teleport",
        cursor: 9,
        shiny_new_field: "x",
    });
    assert!(matches!(
        decode::<ClientMessage>(&frame, MAX_FRAME_BYTES),
        Err(DecodeError::Malformed(_))
    ));
    let hello = encode(&ClientMessage::Hello {
        protocol: PROTOCOL_VERSION,
        token: "t".into(),
        client: "c".into(),
        capabilities: Vec::new(),
    });
    assert!(
        decode::<RelayMessage>(&hello, MAX_FRAME_BYTES).is_err(),
        "a client message is not a relay message"
    );
}

/// A hello and a welcome of the first release, which had no capabilities,
/// still decode: an empty list.
#[test]
fn first_release_messages_without_capabilities_still_decode() {
    #[derive(serde::Serialize)]
    struct OldHello<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        protocol: u16,
        token: &'a str,
        client: &'a str,
    }
    let frame = encode(&OldHello {
        kind: "hello",
        protocol: 1,
        token: "t.s",
        client: "shoal 0.1",
    });
    match decode::<ClientMessage>(&frame, MAX_FRAME_BYTES).unwrap() {
        ClientMessage::Hello { capabilities, .. } => assert!(capabilities.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        shoal_protocol::message_type(&frame).as_deref(),
        Some("hello")
    );
    assert_eq!(shoal_protocol::message_type(b"garbage"), None);
}
