//! Names that tell which process made a database (a scratch database, a test template
//! or copy), so what a process leaves when it dies is dropped by the next process of the
//! same host rather than piling up on the server.

use std::sync::OnceLock;

/// `<pid>_<host>_<nonce>`: the process id (what tells a dead process's leftovers), a tag
/// of this host (another host's processes are not ours to judge), and a number drawn at
/// start (a later process reusing a pid is another process).
pub(crate) fn process_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| format!("{}_{}_{}", std::process::id(), host_tag(), nonce()))
}

fn nonce() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mixed = now.as_secs().wrapping_mul(1_000_000_007) ^ u64::from(now.subsec_nanos());
    format!("{:08x}", fnv(&mixed.to_le_bytes()) as u32)
}

/// Eight hex digits naming this host.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    format!("{:08x}", fnv(host.trim().as_bytes()) as u32)
}

/// 64-bit FNV-1a.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whether `name`, one of `prefixes` followed by a [`process_tag`], was left by a
/// process of this host that is gone: its pid no longer runs (Linux only: elsewhere
/// nothing is judged stale), or it is this pid with another start nonce.
pub(crate) fn is_stale(name: &str, prefixes: &[&str]) -> bool {
    let Some(rest) = prefixes.iter().find_map(|p| name.strip_prefix(p)) else {
        return false;
    };
    let mut parts = rest.split('_');
    let (Some(pid), Some(host), Some(nonce)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let mut ours = process_tag().split('_');
    let (Some(our_pid), Some(our_host), Some(our_nonce)) = (ours.next(), ours.next(), ours.next())
    else {
        return false;
    };
    if host != our_host || pid.parse::<u32>().is_err() {
        return false;
    }
    if pid == our_pid {
        return nonce != our_nonce;
    }
    cfg!(target_os = "linux") && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_processes_of_this_host_are_stale() {
        let ours = format!("x_{}_0", process_tag());
        assert!(!is_stale(&ours, &["x_"]), "our own");
        assert!(!is_stale(&ours, &["y_"]), "another prefix");
        let mut parts = process_tag().split('_');
        let (pid, host) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        // Our pid with another start: a process that had our pid before.
        assert!(
            is_stale(&format!("x_{pid}_{host}_ffffffff_0"), &["x_"])
                || process_tag().ends_with("ffffffff")
        );
        // A pid that cannot be running (above the kernel's limit).
        assert_eq!(
            is_stale(&format!("x_4294967295_{host}_0_0"), &["x_"]),
            cfg!(target_os = "linux")
        );
        assert!(
            !is_stale("x_4294967295_zzzzzzzz_0_0", &["x_"]),
            "another host's"
        );
        assert!(!is_stale("x_notapid_zzzzzzzz_0", &["x_"]));
    }
}
