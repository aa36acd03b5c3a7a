//! Catalog reads spread over two connections: the servers answer two independent
//! queries at once on two cores in about half the time.

use super::BoxFuture;
use crate::error::MigrateError;
use futures_util::future::{select, Either};
use std::future::Future;
use std::ops::DerefMut;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};

/// One connection's share of the work: what it read, in the order it read it.
pub(crate) type Share<'c, R> = BoxFuture<'c, Result<Vec<R>, MigrateError>>;

/// Runs `work` on `first` and, as soon as `second` gives a connection, on that one too:
/// `work` takes its next piece off a queue in `shared`, so the results come back in
/// whatever order the connections read them. A second connection still opening when
/// `first` has done everything is given up on (a pool of one connection, a server at
/// its connection limit never makes the read wait), and `second` answers `None` for a
/// connection that must not help (one that sees another database or schema).
pub(crate) async fn on_one_or_two<C, H, S, R>(
    first: &mut C,
    second: impl Future<Output = Option<H>>,
    shared: &S,
    work: for<'c> fn(&'c mut C, &'c S) -> Share<'c, R>,
) -> Result<Vec<R>, MigrateError>
where
    H: DerefMut<Target = C>,
{
    let helping = AtomicBool::new(false);
    let helper = async {
        let Some(mut c) = second.await else {
            return Ok(Vec::new());
        };
        helping.store(true, Ordering::Relaxed);
        work(&mut c, shared).await
    };
    let main = work(first, shared);
    let (main, helper) = (pin!(main), pin!(helper));
    let (mut rows, theirs) = match select(main, helper).await {
        Either::Left((mine, helper)) => {
            let mine = mine?;
            // A helper still waiting for its connection has nothing left to do.
            let theirs = if helping.load(Ordering::Relaxed) {
                helper.await?
            } else {
                Vec::new()
            };
            (mine, theirs)
        }
        Either::Right((theirs, main)) => (main.await?, theirs?),
    };
    rows.extend(theirs);
    Ok(rows)
}
