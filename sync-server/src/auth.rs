//! Agent tokens: `<token id>.<secret>`, a 64-bit public id to find the token
//! and a 256-bit random secret of which the relay stores only an Argon2id
//! hash. Verified tokens are remembered in memory so reconnect storms do not
//! cost one hash each; revocation forgets them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use shoal_relay_store::{AgentRecord, RelayStore, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A freshly issued token: shown to the admin once, stored only as a hash.
pub struct IssuedToken {
    /// The whole token, for the agent.
    pub token: String,
    /// Its public id.
    pub token_id: String,
    /// Argon2id PHC string of the secret.
    pub secret_hash: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn argon2() -> Argon2<'static> {
    // The secret is 256 random bits, so the hash need not be slow to resist
    // guessing; it only keeps a stolen database from yielding usable tokens.
    // Light parameters keep a reconnect storm cheap.
    let params = Params::new(4096, 1, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Issues a new random token.
pub fn issue() -> IssuedToken {
    let mut rng = rand::rng();
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let secret = hex(&secret);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    let secret_hash = argon2()
        .hash_password(secret.as_bytes(), &salt)
        .expect("hashing with valid parameters succeeds")
        .to_string();
    let token_id = hex(&id);
    IssuedToken {
        token: format!("{token_id}.{secret}"),
        token_id,
        secret_hash,
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed, unknown, or wrong secret (deliberately not told apart).
    #[error("invalid token")]
    Invalid,
    /// The agent's token was revoked.
    #[error("this agent's token was revoked")]
    Revoked,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks tokens against the store, with a memory of verified ones.
pub struct Authenticator {
    store: Arc<dyn RelayStore>,
    verified: Mutex<HashMap<String, (String, String)>>,
}

impl Authenticator {
    /// An authenticator over `store`.
    pub fn new(store: Arc<dyn RelayStore>) -> Self {
        Self {
            store,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The agent a token belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, token: &str) -> Result<AgentRecord, AuthError> {
        let (id, secret) = token.trim().split_once('.').ok_or(AuthError::Invalid)?;
        let record = self.store.token(id)?.ok_or(AuthError::Invalid)?;
        if record.agent.revoked_at.is_some() {
            self.forget(&record.agent.id);
            return Err(AuthError::Revoked);
        }
        let known = self
            .verified
            .lock()
            .expect("token cache lock")
            .get(id)
            .is_some_and(|(s, _)| constant_time_eq(s.as_bytes(), secret.as_bytes()));
        if !known {
            let hash = PasswordHash::new(&record.secret_hash).map_err(|_| AuthError::Invalid)?;
            argon2()
                .verify_password(secret.as_bytes(), &hash)
                .map_err(|_| AuthError::Invalid)?;
            self.verified
                .lock()
                .expect("token cache lock")
                .insert(id.to_owned(), (secret.to_owned(), record.agent.id.clone()));
        }
        Ok(record.agent)
    }

    /// Forgets verified tokens of an agent (after revocation).
    pub fn forget(&self, agent_id: &str) {
        self.verified
            .lock()
            .expect("token cache lock")
            .retain(|_, (_, agent)| agent != agent_id);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_verifies() {
        let a = issue();
        let b = issue();
        assert_ne!(a.token, b.token);
        assert!(!a.secret_hash.contains(a.token.split_once('.').unwrap().1));
        let hash = PasswordHash::new(&a.secret_hash).unwrap();
        let secret = a.token.split_once('.').unwrap().1;
        assert!(argon2().verify_password(secret.as_bytes(), &hash).is_ok());
        assert!(argon2().verify_password(b"wrong", &hash).is_err());
        assert_eq!(secret.len(), 64, "256-bit secret");
    }
}
