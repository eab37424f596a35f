//! The state a request reaches: configuration, the route table, the control plane's store and the
//! serving thread's runtime. The server holds it; each side of awsim is handed the part it needs.

use crate::config::Config;
use crate::control::invocations::InvocationLog;
use crate::control::Control;
use crate::management::{self, Store};
use crate::routes::Router;
use crate::runtime::Runtime;
use crate::server::connections::Connections;
use std::sync::Arc;
use std::time::Instant;

/// Everything a request handler can reach: configuration and the shared state.
pub struct App {
    pub config: Config,
    pub(crate) router: Router,
    pub(crate) started: Instant,
    /// Shared by every serving thread: the control plane has one state.
    pub store: Arc<Store>,
    /// One per serving thread: its backend connection pool stays on that thread.
    pub(crate) runtime: Runtime,
    /// Shared by every serving thread: `--max-connections` counts them all.
    pub(crate) connections: Arc<Connections>,
    /// Shared by every serving thread: one list of rules, one set of quota buckets.
    pub(crate) control: Arc<Control>,
}

impl App {
    pub fn new(config: Config) -> Arc<Self> {
        // Parse the compiled-in catalog now, not on the first request.
        let _ = management::catalog::catalog();
        let control = Arc::new(Control::new(&config));
        let runtime = Runtime::new(
            &config,
            control.clone(),
            InvocationLog::new(config.invocation_log),
        );
        let store = Store::new(&config);
        Arc::new(Self {
            router: Router::new(),
            started: Instant::now(),
            store: Arc::new(store),
            runtime,
            connections: Arc::new(Connections::new(config.max_connections)),
            control,
            config,
        })
    }

    /// The same service for another serving thread: shared state, its own backend client, whose
    /// pooled connections are then driven by that thread alone (a connection opened by another
    /// thread would hand every token across threads).
    pub fn for_another_thread(&self) -> Arc<Self> {
        Arc::new(Self {
            config: self.config.clone(),
            router: Router::new(),
            started: self.started,
            store: self.store.clone(),
            runtime: Runtime::new(
                &self.config,
                self.control.clone(),
                self.runtime.invocations.clone(),
            ),
            connections: self.connections.clone(),
            control: self.control.clone(),
        })
    }
}
