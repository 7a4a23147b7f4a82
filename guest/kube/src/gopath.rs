//! Go's `path.Clean` and `net/http`'s `cleanPath`, the lexical path rules the kubelet, the
//! AtomicWriter and kubectl proxy's `ServeMux` apply.
//!
//! Upstream: Go `path/path.go` (`Clean`: replace multiple slashes by one, drop `.` elements, drop
//! an inner `..` with the element before it, drop `..` at the start of a rooted path; the empty
//! result is `.`) and `net/http/server.go` (`cleanPath`: rooted, and a trailing slash is kept).

use std::borrow::Cow;

/// Go `path.Clean`: `""` → `.`, `a//b/./c/..` → `a/b`, `/../x` → `/x`, `../a` → `../a`,
/// `a/` → `a`.
pub fn clean(p: &str) -> Cow<'_, str> {
    if p.is_empty() {
        return Cow::Borrowed(".");
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `..` cannot go above the root; in a relative path it is kept.
                _ if rooted => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    let out = match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    };
    if out == p {
        Cow::Borrowed(p)
    } else {
        Cow::Owned(out)
    }
}

/// Go `net/http` `cleanPath`: [`clean`] of the path made absolute, with a trailing slash kept.
/// `""` → `/`, `/a/../b` → `/b`, `/a//b/` → `/a/b/`, `/./x` → `/x`.
pub fn clean_url_path(p: &str) -> Cow<'_, str> {
    if p.is_empty() {
        return Cow::Borrowed("/");
    }
    let abs: Cow<str> = if p.starts_with('/') {
        Cow::Borrowed(p)
    } else {
        Cow::Owned(format!("/{p}"))
    };
    let mut np = clean(&abs).into_owned();
    if abs.ends_with('/') && np != "/" {
        np.push('/');
    }
    if np == p {
        Cow::Borrowed(p)
    } else {
        Cow::Owned(np)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        // Go's path.Clean test table (path/path_test.go), abridged.
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("//abc", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn clean_url_paths_like_go() {
        for (input, want) in [
            ("", "/"),
            ("/", "/"),
            ("/api/v1/pods", "/api/v1/pods"),
            ("/api/v1/pods/", "/api/v1/pods/"),
            ("/a/../b", "/b"),
            ("/a/./b", "/a/b"),
            ("/a//b", "/a/b"),
            ("/..", "/"),
            ("/../x/", "/x/"),
            ("a", "/a"),
            ("/a/b/..", "/a"),
            ("/a/b/../", "/a/"),
        ] {
            assert_eq!(clean_url_path(input), want, "{input}");
        }
    }
}
