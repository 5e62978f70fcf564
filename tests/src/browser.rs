//! A real headless Chromium driven over the DevTools protocol (`--remote-debugging-pipe`: JSON messages, each ended
//! by a NUL, on file descriptors 3 and 4), to type into a page and turn the mouse wheel as a user would.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Browser {
    child: Child,
    commands: std::fs::File,
    answers: BufReader<std::fs::File>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

/// A pipe whose two ends close on exec (the child gets its end through `dup2`, which clears the flag).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the array we own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe2");
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    /// Chromium showing `page` (a local file) in a window of `width` × `height`, loaded.
    pub fn open(page: &Path, width: u32, height: u32) -> Browser {
        use std::os::fd::AsRawFd;
        let profile = tempfile::tempdir().unwrap();
        let (their_commands, our_commands) = pipe();
        let (our_answers, their_answers) = pipe();
        let (read_fd, write_fd) = (their_commands.as_raw_fd(), their_answers.as_raw_fd());
        let mut command = Command::new(crate::chromium());
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank");
        // SAFETY: fcntl and dup2 are async-signal-safe; between fork and exec they only wire the pipe ends to fds 3
        // and 4. Both ends are first copied above 10, so that wiring one cannot overwrite the other, and dup2 then
        // gives fresh descriptors without close-on-exec (dup2 onto itself would keep the flag).
        unsafe {
            command.pre_exec(move || {
                let high_read = libc::fcntl(read_fd, libc::F_DUPFD, 10);
                let high_write = libc::fcntl(write_fd, libc::F_DUPFD, 10);
                if high_read < 0 || high_write < 0 || libc::dup2(high_read, 3) < 0 || libc::dup2(high_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop((their_commands, their_answers));
        let mut browser = Browser {
            child,
            commands: std::fs::File::from(our_commands),
            answers: BufReader::new(std::fs::File::from(our_answers)),
            next_id: 0,
            session: String::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }));
        let attached =
            browser.call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        browser.call("Page.navigate", json!({ "url": format!("file://{}", page.display()) }));
        browser
    }

    /// Sends one command (to the page once attached) and returns its result; a protocol error fails the test.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("chromium reads its commands");
        loop {
            let mut raw = Vec::new();
            let n = self.answers.read_until(0, &mut raw).expect("chromium answers");
            assert!(n > 0, "chromium closed its pipe while {method} waited");
            raw.pop();
            let answer: Value = serde_json::from_slice(&raw).unwrap();
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        result["result"]["value"].clone()
    }

    /// A `data-*` attribute of the page's body, once it is set (the page's script sets them after drawing).
    pub fn body_attribute(&mut self, name: &str) -> String {
        let started = Instant::now();
        loop {
            let value = self.evaluate(&format!("document.body && document.body.dataset.{name} || ''"));
            if let Some(text) = value.as_str().filter(|t| !t.is_empty()) {
                return text.to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the page never set data-{name}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `text` into the element `selector` as a keyboard would (one input event for the text).
    pub fn type_into(&mut self, selector: &str, text: &str) {
        self.evaluate(&format!("document.querySelector({selector:?}).focus()"));
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// Where the element `selector` is in the viewport: (left, top, width, height) in CSS pixels.
    pub fn bounds(&mut self, selector: &str) -> (f64, f64, f64, f64) {
        let b = self.evaluate(&format!(
            "(() => {{ const b = document.querySelector({selector:?}).getBoundingClientRect(); \
             return [b.left, b.top, b.width, b.height]; }})()"
        ));
        let at = |i: usize| b[i].as_f64().unwrap_or_else(|| panic!("no element {selector}: {b}"));
        (at(0), at(1), at(2), at(3))
    }

    /// Clicks the middle of the element `selector` with the left mouse button.
    pub fn click(&mut self, selector: &str) {
        let (left, top, width, height) = self.bounds(selector);
        let (x, y) = (left + width / 2.0, top + height / 2.0);
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// The element `selector` as the screen shows it: a PNG, one pixel per CSS pixel.
    pub fn screenshot_of(&mut self, selector: &str) -> Vec<u8> {
        use base64::Engine as _;
        let (x, y, width, height) = self.bounds(selector);
        let clip = json!({ "x": x, "y": y, "width": width, "height": height, "scale": 1 });
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png", "clip": clip }));
        base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).expect("base64 PNG")
    }

    /// Turns the mouse wheel over the point (`x`, `y`) of the viewport, holding ctrl when `ctrl`.
    pub fn wheel(&mut self, x: f64, y: f64, delta_y: f64, ctrl: bool) {
        let modifiers = if ctrl { 2 } else { 0 };
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": delta_y, "modifiers": modifiers }),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
