//! A network thermal printer (ESC/POS on raw TCP, the "port 9100" protocol) for demos and the
//! browser tests: it answers the real-time status queries `DLE EOT 1/2/4` as a ready printer
//! with paper would (or as one out of paper, when told), and writes each job it receives to a
//! directory as the raw bytes (`NNNN.bin`) and the text a person would read off the paper
//! (`NNNN.txt`, with `[QR] payload` and `[CUT]` lines). The text is read from the command
//! stream by this module's own small interpreter of the ESC/POS reference, not by the driver.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
/// A job larger than this is cut off (a thermal ticket is a few kilobytes).
const MAX_JOB: usize = 4 * 1024 * 1024;

/// The simulated printer.
#[derive(Clone)]
pub struct EscPosSim {
    out: PathBuf,
    paper_out: Arc<AtomicBool>,
    seq: Arc<AtomicU32>,
}

impl EscPosSim {
    /// A printer writing its jobs into `out` (created if missing).
    pub fn new(out: PathBuf) -> std::io::Result<EscPosSim> {
        std::fs::create_dir_all(&out)?;
        Ok(EscPosSim { out, paper_out: Arc::new(AtomicBool::new(false)), seq: Arc::new(AtomicU32::new(0)) })
    }

    /// Runs out of paper (`true`) or gets a new roll.
    pub fn set_paper_out(&self, out: bool) {
        self.paper_out.store(out, Ordering::SeqCst);
    }

    fn status(&self, n: u8) -> u8 {
        let paper_out = self.paper_out.load(Ordering::SeqCst);
        // Fixed bits: bit 1 and bit 4 set, bits 0 and 7 clear.
        match n {
            // Offline status: bit 5 "printing stopped by paper end".
            2 if paper_out => 0x12 | 0x20,
            // Roll paper sensor: bits 5 and 6 "paper end".
            4 if paper_out => 0x12 | 0x60,
            _ => 0x12,
        }
    }

    async fn connection(self, mut stream: tokio::net::TcpStream) {
        let mut job = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for window_start in 0..n {
                // Real-time status requests are answered wherever they appear.
                if buf[window_start] == DLE
                    && buf.get(window_start + 1) == Some(&EOT)
                    && let Some(&which) = buf.get(window_start + 2)
                    && stream.write_all(&[self.status(which)]).await.is_err()
                {
                    return;
                }
            }
            if job.len() + n > MAX_JOB {
                break;
            }
            job.extend_from_slice(&buf[..n]);
        }
        let printable = text_of(&job);
        if printable.trim().is_empty() {
            return; // only status queries
        }
        let n = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let base = self.out.join(format!("{n:04}"));
        let _ = std::fs::write(base.with_extension("bin"), &job);
        let _ = std::fs::write(base.with_extension("txt"), printable);
        tracing::info!(job = n, bytes = job.len(), "ticket printed");
    }
}

/// Serves the printer on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, sim: EscPosSim) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(sim.clone().connection(stream));
    }
}

/// The text a job puts on paper: printable characters and line feeds, a `[QR] …` line for a
/// stored QR symbol that is printed, `[CUT]` for a cut; other commands are skipped with their
/// parameters.
pub fn text_of(job: &[u8]) -> String {
    let mut out = String::new();
    let mut qr: Option<Vec<u8>> = None;
    let mut i = 0;
    let arg = |i: usize| job.get(i).copied().unwrap_or(0);
    while i < job.len() {
        match job[i] {
            b'\n' => {
                out.push('\n');
                i += 1;
            }
            DLE if arg(i + 1) == EOT => i += 3,
            ESC => {
                i += match arg(i + 1) {
                    b'@' => 2,
                    b'a' | b'E' | b'!' | b'd' | b'-' | b'M' | b'G' | b't' | b'J' => 3,
                    _ => 2,
                }
            }
            GS => match arg(i + 1) {
                b'V' => {
                    out.push_str("[CUT]\n");
                    i += if arg(i + 2) >= 65 { 4 } else { 3 };
                }
                b'(' if arg(i + 2) == b'k' => {
                    let len = usize::from(arg(i + 3)) | (usize::from(arg(i + 4)) << 8);
                    let body = job.get(i + 5..(i + 5 + len).min(job.len())).unwrap_or(&[]);
                    // cn = 49 (QR): fn 80 stores data, fn 81 prints it.
                    if body.len() >= 2 && body[0] == 49 {
                        match body[1] {
                            80 => qr = Some(body.get(3..).unwrap_or(&[]).to_vec()),
                            81 => {
                                if let Some(data) = qr.take() {
                                    out.push_str("[QR] ");
                                    out.push_str(&String::from_utf8_lossy(&data));
                                    out.push('\n');
                                }
                            }
                            _ => {}
                        }
                    }
                    i += 5 + len;
                }
                _ => i += 3,
            },
            b if (0x20..0x7f).contains(&b) => {
                out.push(char::from(b));
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_qr_and_cut_are_read_off_the_stream() {
        let mut job = vec![ESC, b'@', ESC, b'a', 1, ESC, b'E', 1];
        job.extend(b"KANTOR\n");
        job.extend([GS, b'!', 0x33]);
        job.extend(b"A-014\n");
        let data = b"SPL:1";
        let len = (data.len() + 3) as u8;
        job.extend([GS, b'(', b'k', len, 0, 49, 80, 48]);
        job.extend(data);
        job.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]);
        job.extend([GS, b'V', 66, 0]);
        assert_eq!(text_of(&job), "KANTOR\nA-014\n[QR] SPL:1\n[CUT]\n");
    }

    #[test]
    fn truncated_commands_do_not_panic() {
        for job in [&[GS][..], &[GS, b'(', b'k', 0xff, 0xff, 49][..], &[ESC][..], &[DLE, EOT][..]] {
            let _ = text_of(job);
        }
    }

    #[test]
    fn statuses_keep_their_fixed_bits() {
        let dir = tempfile::tempdir().unwrap();
        let sim = EscPosSim::new(dir.path().join("tickets")).unwrap();
        for paper_out in [false, true] {
            sim.set_paper_out(paper_out);
            for n in [1, 2, 4] {
                assert_eq!(sim.status(n) & 0b1001_0011, 0b0001_0010);
            }
        }
        assert_eq!(sim.status(4) & 0x60, 0x60);
    }
}
