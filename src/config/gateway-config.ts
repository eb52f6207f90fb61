// The typed configuration the gateway runs with. The cli layer builds it from defaults, KG_*
// env vars, the config file and the command line (see src/cli/options.ts). The server's own
// section is here; each personality adds its section to PersonalitySections (by declaration
// merging, in its own options.ts), so this layer knows no personality.

export interface KernelGatewayAppConfig {
  ip: string;
  port: number;
  port_retries: number;
  api: string;
  base_url: string;
  auth_token: string;
  allow_credentials: string;
  allow_headers: string;
  allow_methods: string;
  allow_origin: string;
  expose_headers: string;
  max_age: string;
  x_headers: string;
  /** Trust X-Forwarded-For / X-Real-Ip for the remote address (behind a proxy). */
  trust_xheaders: boolean;
  /** Python ssl.PROTOCOL_* number pinning the TLS version; null: TLS 1.2 and 1.3. */
  ssl_version: number | null;
  certfile: string | null;
  keyfile: string | null;
  client_ca: string | null;
  max_kernels: number | null;
  prespawn_count: number | null;
  /** Ready kernels to keep per kernelspec name, handed out by kernel starts (issue 14). */
  warm_pool: Record<string, number>;
  /** Request env variables that do not keep a start from being served from the warm pool. */
  warm_pool_ignored_env: string[];
  seed_uri: string | null;
  default_kernel_name: string;
  force_kernel_name: string;
  env_process_whitelist: string[];
  log_level: string;
  /** Seconds a kernel may take to answer kernel_info_request at start. */
  kernel_launch_timeout: number;
  /** Jupyter Server's culling options (seconds; 0 turns culling off). */
  cull_idle_timeout: number;
  cull_interval: number;
  cull_connected: boolean;
  cull_busy: boolean;
  /** Automatic restarts after a death allowed within restart_window seconds. */
  restart_limit: number;
  restart_window: number;
  /** Seconds between heartbeats (0: off). */
  heartbeat_interval: number;
  /** Replay of kernel messages to a websocket session_id that reconnects. */
  replay_buffer_bytes: number;
  replay_buffer_seconds: number;
  /** Largest request body accepted, in bytes (413 past it). */
  max_body_size: number;
  /** Largest websocket message a client may send, fragments counted (close 1009 past it). */
  ws_max_message_size: number;
  /** Seconds between websocket pings; a peer silent for a whole interval is dropped (0: off). */
  ws_ping_interval: number;
  /** Seconds a client may take to send a request's headers, and its whole request. */
  http_headers_timeout: number;
  http_request_timeout: number;
  /** Seconds an idle keep-alive connection is kept open. */
  http_keep_alive_timeout: number;
  /** Whether /metrics needs the token (Jupyter Server's option). */
  authenticate_prometheus: boolean;
  /** 'json' for one JSON object per log line; anything else: the readable lines. */
  log_format: string;
  /** Where remote kernels' launchers send their connection info ('' : this machine's first
   *  external IPv4 address), and its port (taken ports are skipped, up to 10 more). */
  response_ip: string;
  response_port: number;
  /** `lower..upper` ports for remote kernels' launchers (`{port_range}`); 0..0: any. */
  port_range: string;
  /** Container images a start request's KERNEL_IMAGE may name (none by default). */
  allowed_images: string[];
  /** SSH hosts for distributed kernels, how one is chosen, and how to log in. */
  remote_hosts: string[];
  load_balancing_algorithm: string;
  remote_user: string;
  ssh_port: number;
  ssh_identity_file: string;
  ssh_known_hosts_file: string;
  availability_mode: string;
  persistence_root: string;
  /** Kernel Gateway 3.0's class options: accepted, without effect here. */
  kernel_manager_class: string;
  kernel_spec_manager_class: string;
  kernel_websocket_connection_class: string;
  authorizer_class: string;
  identity_provider_class: string;
  cookie_secret_file: string;
}

/** One entry per personality section, added by each personality's options.ts. */
export interface PersonalitySections {}

export interface GatewayConfig extends PersonalitySections {
  KernelGatewayApp: KernelGatewayAppConfig;
}

export function defaultKernelGatewayAppConfig(): KernelGatewayAppConfig {
  return {
    ip: '127.0.0.1',
    port: 8888,
    port_retries: 50,
    api: 'kernel_gateway.jupyter_websocket',
    base_url: '/',
    auth_token: '',
    allow_credentials: '',
    allow_headers: '',
    allow_methods: '',
    allow_origin: '',
    expose_headers: '',
    max_age: '',
    x_headers: 'false',
    trust_xheaders: false,
    ssl_version: null,
    certfile: null,
    keyfile: null,
    client_ca: null,
    max_kernels: null,
    prespawn_count: null,
    warm_pool: {},
    warm_pool_ignored_env: ['KERNEL_USERNAME', 'KERNEL_WORKING_DIR', 'KERNEL_LAUNCH_TIMEOUT'],
    seed_uri: null,
    default_kernel_name: '',
    force_kernel_name: '',
    env_process_whitelist: [],
    log_level: 'INFO',
    kernel_launch_timeout: 60,
    cull_idle_timeout: 0,
    cull_interval: 300,
    cull_connected: false,
    cull_busy: false,
    restart_limit: 5,
    restart_window: 60,
    heartbeat_interval: 3,
    replay_buffer_bytes: 16 * 1024 * 1024,
    replay_buffer_seconds: 120,
    max_body_size: 64 * 1024 * 1024,
    ws_max_message_size: 10 * 1024 * 1024,
    ws_ping_interval: 30,
    http_headers_timeout: 30,
    http_request_timeout: 300,
    http_keep_alive_timeout: 60,
    authenticate_prometheus: true,
    log_format: '',
    response_ip: '',
    response_port: 8877,
    port_range: '0..0',
    allowed_images: [],
    remote_hosts: ['localhost'],
    load_balancing_algorithm: 'round-robin',
    remote_user: '',
    ssh_port: 22,
    ssh_identity_file: '',
    ssh_known_hosts_file: '',
    availability_mode: '',
    persistence_root: '',
    kernel_manager_class: 'kernel_gateway.services.kernels.manager.SeedingMappingKernelManager',
    kernel_spec_manager_class: 'jupyter_client.kernelspec.KernelSpecManager',
    kernel_websocket_connection_class: 'jupyter_server.services.kernels.connection.channels.ZMQChannelsWebsocketConnection',
    authorizer_class: 'jupyter_server.auth.authorizer.AllowAllAuthorizer',
    identity_provider_class: 'kernel_gateway.auth.identity.GatewayIdentityProvider',
    cookie_secret_file: '',
  };
}
