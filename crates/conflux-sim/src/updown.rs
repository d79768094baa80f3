//! Taking an endpoint down or bringing it back up: applies a control patch to the world, then stops the
//! endpoint's listener or re-binds its port. Sits above both `shared` (the state) and `rpc` (the server that
//! reads the state) so that those two do not import each other.

use std::sync::Arc;

use serde_json::Value;

use super::patch::EndpointPatch;
use super::rpc;
use super::shared::{stop_listening, Shared};
use super::SimError;

/// Applies a patch to endpoint `name` and starts or stops its listener if `down` changed. While down, its port
/// stays bound without listening (connections are refused), so no other process can take it meanwhile.
/// Returns the endpoint's new state. If the port cannot be re-bound, the endpoint stays down.
pub async fn patch_endpoint(
    shared: &Arc<Shared>,
    name: &str,
    patch: &EndpointPatch,
) -> Result<Value, SimError> {
    let mut listeners = shared.listeners().await;
    let effects = shared.world().patch(name, patch)?;
    match effects.down_changed {
        Some(true) => {
            if let Some(l) = listeners.remove(name) {
                stop_listening(l, true).await;
                // Without a parked port, coming back up re-binds and may find the port taken.
                if let Ok(socket) = rpc::park(shared.addr(name)?) {
                    shared.park(name, socket);
                }
            }
        }
        Some(false) => {
            let addr = shared.addr(name)?;
            let bound = match shared.unpark(name) {
                Some(socket) => rpc::listen(socket, addr),
                None => rpc::bind(addr).await.map(|(listener, _)| listener),
            };
            match bound {
                Ok(listener) => {
                    listeners.insert(name.to_string(), rpc::serve(shared, name, listener));
                }
                Err(e) => {
                    shared.world().endpoint_mut(name)?.view.down = true;
                    return Err(e);
                }
            }
        }
        None => {}
    }
    drop(listeners);
    shared.endpoint_state(name)
}
