//! A write deadline per response. hyper has a timeout for reading request headers but none for writing: a client
//! that sends `GET /metrics` and never reads would keep its connection, its slot under the connection cap and
//! the response bytes for as long as it likes. The deadline starts with the first write after a completed flush
//! (hyper writes a whole response, then flushes it) and ends when the flush completes; past it, every write,
//! flush or shutdown fails with `TimedOut` and hyper drops the connection. A total deadline rather than one per
//! stalled write: a client reading a byte now and then cannot stretch it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `io` with a deadline of `timeout` on writing each response.
pub(super) struct WriteDeadline<I> {
    io: I,
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
    /// A response is being written: the sleep is armed.
    armed: bool,
}

impl<I> WriteDeadline<I> {
    /// Wraps `io`; nothing is armed until the first write.
    pub(super) fn new(io: I, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
        }
    }

    /// Arms the deadline if no response is in progress; `Err(TimedOut)` once it has passed. Polling the sleep
    /// registers the waker, so a write that stays pending is woken at the deadline.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.armed {
            self.armed = true;
            let at = Instant::now() + self.timeout;
            self.sleep.as_mut().reset(at);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "response not written within the write timeout",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for WriteDeadline<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check(cx)?;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check(cx)?;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.armed {
            return Pin::new(&mut self.io).poll_flush(cx);
        }
        self.check(cx)?;
        let done = Pin::new(&mut self.io).poll_flush(cx);
        if matches!(done, Poll::Ready(Ok(()))) {
            self.armed = false;
        }
        done
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check(cx)?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_peer_that_reads_gets_every_response() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut w = WriteDeadline::new(a, Duration::from_secs(5));
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            b.read_to_end(&mut all).await.map(|_| all.len())
        });
        for _ in 0..3 {
            w.write_all(&[7u8; 1000]).await.unwrap();
            w.flush().await.unwrap();
        }
        w.shutdown().await.unwrap();
        drop(w);
        assert_eq!(reader.await.unwrap().unwrap(), 3000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_is_cut_at_the_deadline() {
        let (a, _b) = tokio::io::duplex(64);
        let mut w = WriteDeadline::new(a, Duration::from_secs(2));
        let started = Instant::now();
        let e = w.write_all(&[7u8; 1000]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickling_reader_cannot_stretch_the_deadline_but_idle_time_does_not_count() {
        let (a, mut b) = tokio::io::duplex(16);
        let mut w = WriteDeadline::new(a, Duration::from_secs(2));
        // Idle between responses: not counted.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let trickle = tokio::spawn(async move {
            let mut byte = [0u8; 1];
            while b.read(&mut byte).await.is_ok_and(|n| n > 0) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let started = Instant::now();
        let e = w.write_all(&[7u8; 1000]).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        drop(w);
        trickle.await.unwrap();
    }
}
