//! Thermal ticket printers speaking ESC/POS over TCP (port 9100, "raw" or
//! `_pdl-datastream._tcp`): the queue ticket as commands, the real-time status queries
//! (`DLE EOT n`) and a driver that checks paper before printing and the printer after.
//!
//! Text is folded to ASCII: the printers' code pages differ, and Indonesian needs no more.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use crate::driver::Ticket;
use crate::driver::{Device, Pending, PrintJob, Printer, Progress, Report, Submitted, TicketPrinter, pending};
use crate::{Attention, DeviceError};

/// The MIME type of a print job made of ESC/POS commands.
pub const FORMAT: &str = "application/vnd.escpos";

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;

/// Text as the printer's ASCII subset: letters with accents lose them, anything else that is
/// not printable ASCII becomes '?'; control bytes never reach the printer from text.
pub fn ascii(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            'à'..='å' | 'À'..='Å' => {
                if c.is_uppercase() {
                    b'A'
                } else {
                    b'a'
                }
            }
            'è'..='ë' | 'È'..='Ë' => {
                if c.is_uppercase() {
                    b'E'
                } else {
                    b'e'
                }
            }
            'ì'..='ï' | 'Ì'..='Ï' => {
                if c.is_uppercase() {
                    b'I'
                } else {
                    b'i'
                }
            }
            'ò'..='ö' | 'Ò'..='Ö' => {
                if c.is_uppercase() {
                    b'O'
                } else {
                    b'o'
                }
            }
            'ù'..='ü' | 'Ù'..='Ü' => {
                if c.is_uppercase() {
                    b'U'
                } else {
                    b'u'
                }
            }
            '\u{2013}' | '\u{2014}' => b'-',
            _ => b'?',
        })
        .collect()
}

fn line(out: &mut Vec<u8>, text: &str) {
    out.extend(ascii(text));
    out.push(b'\n');
}

fn qr(out: &mut Vec<u8>, data: &str) {
    let data = ascii(data);
    // Model 2, module size 6, error correction M, store, print (GS ( k, function 165-181).
    out.extend([GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend([GS, b'(', b'k', 3, 0, 49, 67, 6]);
    out.extend([GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let len = data.len() + 3;
    out.extend([GS, b'(', b'k', (len & 0xFF) as u8, (len >> 8) as u8, 49, 80, 48]);
    out.extend(data);
    out.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]);
}

/// The commands that print `ticket` and cut the paper.
pub fn ticket_bytes(ticket: &Ticket) -> Vec<u8> {
    let mut out = vec![ESC, b'@', ESC, b'a', 1];
    out.extend([ESC, b'E', 1]);
    line(&mut out, &ticket.office);
    out.extend([ESC, b'E', 0]);
    line(&mut out, &ticket.service);
    out.extend([GS, b'!', 0x33]);
    line(&mut out, &ticket.number);
    out.extend([GS, b'!', 0x00]);
    line(&mut out, &ticket.lane);
    line(&mut out, &ticket.time);
    qr(&mut out, &ticket.qr);
    out.push(b'\n');
    line(&mut out, &ticket.footer);
    out.extend([ESC, b'd', 3]);
    // Feed and partial cut.
    out.extend([GS, b'V', 66, 0]);
    out
}

/// What a printer says about itself through `DLE EOT`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The printer is offline.
    pub offline: bool,
    /// The cover is open.
    pub cover_open: bool,
    /// The roll is out.
    pub paper_out: bool,
    /// The roll is nearly out.
    pub paper_low: bool,
    /// An error stopped it (cutter jam, overheating).
    pub error: bool,
}

impl Status {
    /// The reason the printer cannot print now, if any.
    pub fn blocking(&self) -> Option<Attention> {
        if self.paper_out {
            Some(Attention::MediaEmpty)
        } else if self.cover_open {
            Some(Attention::CoverOpen)
        } else if self.error {
            Some(Attention::MediaJam)
        } else if self.offline {
            Some(Attention::Offline)
        } else {
            None
        }
    }
}

/// A status byte is valid when its fixed bits are: bit 1 and bit 4 set, bits 0 and 7 clear.
fn checked(byte: u8) -> Result<u8, DeviceError> {
    if byte & 0b1001_0011 == 0b0001_0010 {
        Ok(byte)
    } else {
        Err(DeviceError::Protocol(format!("status byte {byte:#04x} is not an ESC/POS status")))
    }
}

/// Reads the three status bytes from the answers to `DLE EOT 1`, `2` and `4`.
pub fn parse_status(printer: u8, offline: u8, paper: u8) -> Result<Status, DeviceError> {
    let (printer, offline, paper) = (checked(printer)?, checked(offline)?, checked(paper)?);
    Ok(Status {
        offline: printer & 0x08 != 0,
        cover_open: offline & 0x04 != 0,
        paper_out: offline & 0x20 != 0 || paper & 0x60 != 0,
        paper_low: paper & 0x0C != 0,
        error: offline & 0x40 != 0,
    })
}

/// A ticket printer at `host:port`.
#[derive(Clone, Debug)]
pub struct EscPosPrinter {
    address: String,
    timeout: Duration,
}

impl EscPosPrinter {
    /// A printer at `address` (`host:port`), each step bounded by `timeout`.
    pub fn new(address: impl Into<String>, timeout: Duration) -> EscPosPrinter {
        EscPosPrinter { address: address.into(), timeout }
    }

    async fn connect(&self) -> Result<TcpStream, DeviceError> {
        match tokio::time::timeout(self.timeout, TcpStream::connect(&self.address)).await {
            Err(_) => Err(DeviceError::Timeout),
            Ok(Err(_)) => Err(DeviceError::Unreachable),
            Ok(Ok(s)) => Ok(s),
        }
    }

    async fn query(&self, stream: &mut TcpStream, n: u8) -> Result<u8, DeviceError> {
        self.write(stream, &[DLE, EOT, n]).await?;
        let mut byte = [0u8; 1];
        match tokio::time::timeout(self.timeout, stream.read(&mut byte)).await {
            Err(_) => Err(DeviceError::Timeout),
            Ok(Err(e)) => Err(DeviceError::from_io(&e)),
            Ok(Ok(0)) => Err(DeviceError::Dropped),
            Ok(Ok(_)) => Ok(byte[0]),
        }
    }

    async fn write(&self, stream: &mut TcpStream, bytes: &[u8]) -> Result<(), DeviceError> {
        match tokio::time::timeout(self.timeout, stream.write_all(bytes)).await {
            Err(_) => Err(DeviceError::Timeout),
            Ok(Err(e)) => Err(DeviceError::from_io(&e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn status_on(&self, stream: &mut TcpStream) -> Result<Status, DeviceError> {
        let printer = self.query(stream, 1).await?;
        let offline = self.query(stream, 2).await?;
        let paper = self.query(stream, 4).await?;
        parse_status(printer, offline, paper)
    }

    /// The printer's state.
    pub async fn status(&self) -> Result<Status, DeviceError> {
        let mut stream = self.connect().await?;
        self.status_on(&mut stream).await
    }

    /// Prints `job` (ESC/POS commands): refused before anything is sent when the printer
    /// reports a blocking state; confirmed after by a status answer that arrives only once the
    /// printer has taken the job's bytes, and that must not report a problem.
    pub async fn print(&self, job: &[u8]) -> Result<Status, DeviceError> {
        let mut stream = self.connect().await?;
        let before = self.status_on(&mut stream).await?;
        if let Some(reason) = before.blocking() {
            return Err(DeviceError::NeedsAttention(reason));
        }
        // From here on the printer has (part of) the job: a failure may still have printed.
        self.write(&mut stream, job).await.map_err(DeviceError::after_sending)?;
        let after = self.status_on(&mut stream).await.map_err(DeviceError::after_sending)?;
        if let Some(reason) = after.blocking() {
            return Err(DeviceError::NeedsAttention(reason).after_sending());
        }
        let _ = stream.shutdown().await;
        Ok(after)
    }
}

impl Device for EscPosPrinter {
    fn report(&self) -> Pending<'_, Report> {
        pending(async move {
            let status = self.status().await?;
            Ok(Report {
                problems: status.blocking().into_iter().collect(),
                warnings: if status.paper_low { vec!["paper_low".into()] } else { Vec::new() },
                ..Report::default()
            })
        })
    }
}

impl Printer for EscPosPrinter {
    /// Prints ESC/POS commands ([`FORMAT`]) at once; anything else would come out as garbage
    /// and is refused.
    fn submit<'a>(&'a self, job: PrintJob<'a>) -> Pending<'a, Submitted> {
        pending(async move {
            if job.format != FORMAT {
                return Err(DeviceError::Unsupported(format!("a ticket printer does not take {}", job.format)));
            }
            self.print(job.document).await?;
            Ok(Submitted::Printed)
        })
    }

    fn follow(&self, _remote: i32) -> Pending<'_, Progress> {
        pending(async move { Err(DeviceError::Unsupported("a ticket printer keeps no job queue".into())) })
    }
}

impl TicketPrinter for EscPosPrinter {
    fn print_ticket<'a>(&'a self, ticket: &'a Ticket) -> Pending<'a, ()> {
        pending(async move { self.print(&ticket_bytes(ticket)).await.map(|_| ()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_never_carries_control_bytes_to_the_printer() {
        assert_eq!(ascii("Dinas Dukcapil – Badung"), b"Dinas Dukcapil - Badung");
        assert_eq!(ascii("Café\u{1b}@\n"), b"Cafe?@?");
    }

    #[test]
    fn status_bytes_are_read_and_checked() {
        let ok = parse_status(0x12, 0x12, 0x12).unwrap();
        assert_eq!(ok, Status::default());
        assert_eq!(ok.blocking(), None);
        let out = parse_status(0x12, 0x32, 0x72).unwrap();
        assert!(out.paper_out);
        assert_eq!(out.blocking(), Some(Attention::MediaEmpty));
        assert_eq!(parse_status(0x12, 0x16, 0x12).unwrap().blocking(), Some(Attention::CoverOpen));
        assert_eq!(parse_status(0x1A, 0x12, 0x12).unwrap().blocking(), Some(Attention::Offline));
        assert!(parse_status(0x12, 0x12, 0x1E).unwrap().paper_low);
        assert!(matches!(parse_status(b'H', 0x12, 0x12), Err(DeviceError::Protocol(_))));
        assert!(matches!(parse_status(0xFF, 0x12, 0x12), Err(DeviceError::Protocol(_))));
    }
}
