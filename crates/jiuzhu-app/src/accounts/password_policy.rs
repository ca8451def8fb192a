//! The password policy (docs/security.md, "Passwords"): at least 12 characters, at least three
//! of the four classes (lower case, upper case, digits, other characters), not containing the
//! user name, and not built on a common weak password (`weak_passwords.txt`, matched after
//! removing digits and symbols at both ends, reading look-alike characters as letters and
//! dropping inner separators).

use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_CHARS: usize = 12;

fn weak_stems() -> &'static HashSet<&'static str> {
    static STEMS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    STEMS.get_or_init(|| {
        include_str!("weak_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Reads characters people use for letters as those letters.
fn unleet(c: char) -> char {
    match c {
        '@' | '4' => 'a',
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '$' | '5' => 's',
        '7' => 't',
        other => other,
    }
}

/// The shortest unit `s` is a repetition of (`abcabc` → `abc`).
fn unit(s: &str) -> &str {
    let n = s.len();
    (1..=n / 2)
        .filter(|k| n.is_multiple_of(*k) && s.is_char_boundary(*k))
        .find(|k| s.as_bytes().chunks(*k).all(|c| c == &s.as_bytes()[..*k]))
        .map_or(s, |k| &s[..k])
}

/// Whether the password is a common weak one, dressed up or not.
pub fn is_weak(password: &str) -> bool {
    let stems = weak_stems();
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let read: String = core
        .chars()
        .map(unleet)
        .filter(|c| c.is_alphanumeric())
        .collect();
    let plain: String = lower.chars().map(unleet).collect();
    let candidates = [lower.as_str(), core, read.as_str(), plain.as_str()];
    let distinct: HashSet<char> = lower.chars().collect();
    distinct.len() <= 3
        || candidates
            .iter()
            .any(|c| stems.contains(c) || stems.contains(unit(c)) || unit(c).chars().count() <= 2)
}

/// Checks a new password against the policy; the reason in Chinese.
pub fn check(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!("新密码至少{MIN_CHARS}个字符"));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 3 {
        return Err("新密码须包含大写字母、小写字母、数字、符号中的至少三类".into());
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err("新密码不能包含用户名".into());
    }
    if is_weak(password) {
        return Err(
            "新密码过于常见或容易猜到(如 Password123、Admin@2026、键盘连续字符),请换一个".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_weak_and_accepts_the_reasonable() {
        for weak in [
            "Password12",
            "Password123!",
            "P@ssw0rd-2026!",
            "Admin@123456",
            "Woaini1314!!",
            "1qaz2wsx3EDC",
            "Jiuzhu2026!!",
            "AbcAbcAbc123",
            "Qwertyuiop1!",
            "Aaaaaaaaaaa1!",
        ] {
            assert!(check(weak, "wangli").is_err(), "{weak} accepted");
        }
        assert_eq!(
            check("Wangli-Zhanghao-7", "wangli").unwrap_err(),
            "新密码不能包含用户名"
        );
        assert!(check("short-1A", "x").unwrap_err().contains("12"));
        assert!(check("alllowercase-but-long", "x")
            .unwrap_err()
            .contains("三类"));
        for ok in [
            "Neu-Passwort-2026",
            "Huancui-Clerk-2026",
            "Ten-Brown-Oxen-42",
            "ABCdefg-2345ab",
        ] {
            assert_eq!(check(ok, "wangli"), Ok(()), "{ok}");
        }
    }

    #[test]
    fn generated_one_time_passwords_satisfy_the_policy() {
        for _ in 0..200 {
            let p = super::super::password::generate();
            assert_eq!(check(&p, "someone"), Ok(()), "{p}");
        }
    }
}
