//! A network ticket printer for the tests: listens like an ESC/POS printer on TCP, answers the
//! real-time status queries (`DLE EOT n`) from a state the test sets, keeps what each
//! connection sent, and decodes it into lines, QR codes and cuts. The decoder is written from
//! the ESC/POS command reference, independently of the driver it checks.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the printer behaves.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Ready, paper in.
    Ready,
    /// The roll is out.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// Answers status queries with bytes that are not ESC/POS statuses.
    Garbage,
    /// Never answers status queries.
    Silent,
    /// Closes the connection after this many bytes of a job.
    DropAfter(usize),
}

/// The test printer.
pub struct EscPosPeer {
    /// `127.0.0.1:PORT`.
    pub address: String,
    mode: Arc<Mutex<Mode>>,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
}

const DLE: u8 = 0x10;
const EOT: u8 = 0x04;

impl EscPosPeer {
    /// Starts listening on a free loopback port.
    pub async fn start(mode: Mode) -> EscPosPeer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let mode = Arc::new(Mutex::new(mode));
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let (m, j) = (mode.clone(), jobs.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (m, j) = (m.clone(), j.clone());
                tokio::spawn(async move {
                    let mut job = Vec::new();
                    let mut pending: Vec<u8> = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        let mode = m.lock().unwrap().clone();
                        // Real-time commands act wherever they are in the stream.
                        let mut i = 0;
                        let mut answers = Vec::new();
                        while i < pending.len() {
                            if pending[i] == DLE && pending.len() - i < 3 {
                                break;
                            }
                            if pending[i] == DLE && pending[i + 1] == EOT {
                                if let Some(a) = answer(&mode, pending[i + 2]) {
                                    answers.push(a);
                                }
                                i += 3;
                            } else {
                                job.push(pending[i]);
                                i += 1;
                            }
                        }
                        pending.drain(..i);
                        if !answers.is_empty() && stream.write_all(&answers).await.is_err() {
                            break;
                        }
                        if let Mode::DropAfter(limit) = mode
                            && job.len() >= limit
                        {
                            break;
                        }
                    }
                    if !job.is_empty() {
                        j.lock().unwrap().push(job);
                    }
                });
            }
        });
        EscPosPeer { address, mode, jobs }
    }

    /// Changes how the printer behaves from the next bytes on.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Every job received so far, decoded.
    pub fn jobs(&self) -> Vec<Printout> {
        self.jobs.lock().unwrap().iter().map(|j| decode(j)).collect()
    }
}

fn answer(mode: &Mode, n: u8) -> Option<u8> {
    const FIXED: u8 = 0x12;
    match mode {
        Mode::Silent => None,
        Mode::Garbage => Some(b'?'),
        Mode::PaperOut => Some(match n {
            2 => FIXED | 0x20,
            4 => FIXED | 0x60,
            _ => FIXED,
        }),
        Mode::CoverOpen => Some(if n == 2 { FIXED | 0x04 } else { FIXED }),
        Mode::Ready | Mode::DropAfter(_) => Some(FIXED),
    }
}

/// One printed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its text.
    pub text: String,
    /// Emphasised.
    pub bold: bool,
    /// Character size as set by `GS !` (0 normal; 0x11 double; 0x33 four times).
    pub size: u8,
    /// 0 left, 1 centre, 2 right.
    pub align: u8,
}

/// What a job printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Printout {
    /// Lines of text.
    pub lines: Vec<Line>,
    /// QR codes printed (their data).
    pub qr_codes: Vec<String>,
    /// Paper cuts.
    pub cuts: usize,
    /// The job began by resetting the printer.
    pub initialised: bool,
    /// Commands this decoder does not know (their first two bytes).
    pub unknown: Vec<(u8, u8)>,
}

impl Printout {
    /// The text of every line, joined.
    pub fn text(&self) -> String {
        self.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// Decodes ESC/POS commands.
pub fn decode(bytes: &[u8]) -> Printout {
    let mut out = Printout::default();
    let (mut bold, mut size, mut align) = (false, 0u8, 0u8);
    let mut text = String::new();
    let mut stored_qr: Option<String> = None;
    let mut i = 0;
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.lines.push(Line { text: std::mem::take(&mut text), bold, size, align });
                i += 1;
            }
            0x1B => match byte(i + 1) {
                b'@' => {
                    out.initialised = true;
                    (bold, size, align) = (false, 0, 0);
                    i += 2;
                }
                b'a' => {
                    align = byte(i + 2) % 48;
                    i += 3;
                }
                b'E' => {
                    bold = byte(i + 2) & 1 == 1;
                    i += 3;
                }
                b'd' | b't' | b'!' | b'M' => i += 3,
                other => {
                    out.unknown.push((0x1B, other));
                    i += 2;
                }
            },
            0x1D => match byte(i + 1) {
                b'!' => {
                    size = byte(i + 2);
                    i += 3;
                }
                b'V' => {
                    out.cuts += 1;
                    i += if matches!(byte(i + 2), 65 | 66 | 97 | 98 | 103 | 104) { 4 } else { 3 };
                }
                b'(' if byte(i + 2) == b'k' => {
                    let len = usize::from(byte(i + 3)) + 256 * usize::from(byte(i + 4));
                    let params = bytes.get(i + 5..(i + 5 + len).min(bytes.len())).unwrap_or(&[]);
                    if params.len() >= 3 && params[0] == 49 && params[1] == 80 {
                        stored_qr = Some(String::from_utf8_lossy(&params[3..]).to_string());
                    } else if params.len() >= 2 && params[0] == 49 && params[1] == 81 {
                        out.qr_codes.extend(stored_qr.take());
                    }
                    i += 5 + len;
                }
                other => {
                    out.unknown.push((0x1D, other));
                    i += 2;
                }
            },
            b => {
                if b >= 0x20 {
                    text.push(char::from(b));
                }
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        out.lines.push(Line { text, bold, size, align });
    }
    out
}
