//! Password hashes (argon2id, PHC strings) and generated secrets.
//!
//! The hashes are computed into memory that is reused. Each hash needs 19 MiB of blocks; allocated per hash, the
//! allocator kept the freed blocks of every thread that ever hashed (a login flood left hundreds
//! of megabytes resident). Here each thread keeps one buffer, grown once to the largest
//! parameters it has met, and the hashing pool's threads live as long as the server: memory
//! for hashing is the pool's size times 19 MiB, whatever arrives.

use std::cell::RefCell;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use jiuzhu_domain::Role;

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    BLOCKS.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < count {
            b.resize(count, Block::default());
        }
        f(&mut b[..count])
    })
}

fn compute(a: &Argon2, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    with_blocks(params.block_count(), |m| {
        a.hash_password_into_with_memory(password, salt, out, m)
            .is_ok()
    })
}

/// Hashes a password with argon2id and the crate's default parameters (PHC string). Blocking
/// (about 19 MiB and tens of milliseconds): servers call it through [`super::HashPool`].
pub fn hash(password: &str) -> crate::Result<String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| crate::Error::internal(format!("salt: {e}")))?;
    let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !compute(&a, &params, password.as_bytes(), salt_bytes, &mut out) {
        return Err(crate::Error::internal("hashing a password"));
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| crate::Error::internal(format!("params: {e}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| crate::Error::internal(format!("output: {e}")))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (algorithm, version and parameters as the
/// string names them; compared in constant time).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(h.algorithm), Params::try_from(&h))
    else {
        return false;
    };
    let version = match h.version.map(Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let a = Argon2::new(algorithm, version, params.clone());
    compute(&a, &params, password.as_bytes(), salt_bytes, &mut out)
        && Output::new(&out).is_ok_and(|o| o == expected)
}

/// A one-time password without look-alike characters (it satisfies the password policy).
pub fn generate() -> String {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::thread_rng();
    let mut pick = |set: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| set[rng.gen_range(0..set.len())] as char)
            .collect()
    };
    format!(
        "{}{}-{}{}",
        pick(UPPER, 3),
        pick(LOWER, 4),
        pick(DIGIT, 4),
        pick(LOWER, 2)
    )
}

/// A new secret for an account: a person's one-time password, or a system's client secret
/// (long and random: a machine stores it, nobody types it).
pub fn secret_for(role: Role) -> String {
    if role == Role::DepartmentSystem {
        random_hex(24)
    } else {
        generate()
    }
}

/// `bytes` random bytes as hexadecimal.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let h = hash("Huancui-Window-77").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Huancui-Window-77", &h));
        assert!(!verify("Huancui-Window-78", &h));
        // The crate's own verifier agrees, and its hashes verify here.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Huancui-Window-77", &parsed)
            .is_ok());
        use argon2::PasswordHasher;
        let theirs = Argon2::default()
            .hash_password(b"Demo@2026-clerk", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("Demo@2026-clerk", &theirs));
        assert!(!verify("x", "not a hash"));
    }
}
