//! Region labels against the process's own mappings: memlab is held at the
//! first step of `memlab trace box --step`, its `/proc/PID/maps` is read
//! while the block is alive, and the label it printed must agree with the
//! mapping that holds the block. `heap` means the brk heap, the mapping the
//! kernel labels `[heap]`; with `glibc.malloc.hugetlb=2` glibc's main arena
//! lives in anonymous mappings instead and there is no `[heap]` at all.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

/// The `[heap]` range and the path of the mapping holding `address`.
fn mapping_of(maps: &str, address: usize) -> (Option<(usize, usize)>, Option<String>) {
    let range = |line: &str| -> Option<(usize, usize)> {
        let (start, end) = line.split_whitespace().next()?.split_once('-')?;
        Some((
            usize::from_str_radix(start, 16).ok()?,
            usize::from_str_radix(end, 16).ok()?,
        ))
    };
    let heap = maps.lines().find(|l| l.ends_with("[heap]")).and_then(range);
    let holder = maps
        .lines()
        .find(|l| range(l).is_some_and(|(s, e)| (s..e).contains(&address)))
        .map(|l| l.split_whitespace().skip(5).collect::<Vec<_>>().join(" "));
    (heap, holder)
}

/// Runs `memlab trace box --step` with `env`, stops at the first event, and
/// returns the event's address, its printed region, and the process's maps.
fn first_event(env: &[(&str, &str)]) -> (usize, String, String) {
    let mut child = common::memlab_binary()
        .args([
            "trace", "box", "--step", "--color", "never", "--width", "100",
        ])
        .envs(env.iter().copied())
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("memlab runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8];
    // The step prompt ends with "quit ──" and waits for input.
    while !String::from_utf8_lossy(&seen).contains("q: quit") {
        let n = stdout
            .read(&mut byte)
            .expect("memlab prints its first step");
        assert!(
            n > 0,
            "memlab ended early:\n{}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
    }
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", child.id())).unwrap();
    child.stdin.take().unwrap().write_all(b"q\n").unwrap();
    let _ = stdout.read_to_end(&mut seen);
    assert!(child.wait().unwrap().success());
    let text = String::from_utf8_lossy(&seen).into_owned();
    // "#1 alloc 0x561c9cd357c0 32 B · align 8 · heap · 40 B reserved"
    let line = text
        .lines()
        .find(|l| l.starts_with("#1 alloc "))
        .unwrap_or_else(|| panic!("no event line:\n{text}"));
    let address = line.split_whitespace().nth(2).unwrap();
    let address = usize::from_str_radix(address.trim_start_matches("0x"), 16).unwrap();
    let region = line.split(" · ").nth(2).unwrap().to_string();
    (address, region, maps)
}

#[track_caller]
fn check(env: &[(&str, &str)]) -> String {
    let (address, region, maps) = first_event(env);
    let (heap, holder) = mapping_of(&maps, address);
    let in_heap = heap.is_some_and(|(s, e)| (s..e).contains(&address));
    if region == "heap" {
        assert!(
            in_heap,
            "{env:?}: memlab said heap, but {address:#x} is in {holder:?} and [heap] is {heap:x?}"
        );
    }
    if in_heap {
        assert!(
            region == "heap" || region == "unknown",
            "{env:?}: {address:#x} is in [heap] but memlab said {region}"
        );
    }
    region
}

#[test]
fn heap_means_the_brk_heap_and_nothing_else() {
    // By default glibc's main arena grows with brk: the block is in [heap].
    assert_eq!(check(&[]), "heap");
    // Here the main arena is mapped with mmap and no [heap] exists: the chunk
    // header still says "main arena", but that is not the brk heap.
    let region = check(&[("GLIBC_TUNABLES", "glibc.malloc.hugetlb=2")]);
    assert_ne!(region, "heap");
    check(&[("MALLOC_TOP_PAD_", "0")]);
}
