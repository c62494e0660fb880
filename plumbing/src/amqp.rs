//! RabbitMQ: the queue topology of DESIGN.md §5, a publisher with confirms, and the consumer
//! loop every worker runs (prefetch, ack after commit, dead letters with a reason, reconnect).

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::Confirmation;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, warn};

use crate::config::redact_url;
use crate::telemetry;

/// Dead letters kept at most; further dead-letter publishes are refused (`reject-publish`),
/// so the failing message stays on its own queue instead of an older dead letter being dropped.
pub const DEAD_LETTER_MAX_LENGTH: i64 = 100_000;

pub const HEADER_REASON: &str = "x-sluice-reason";
pub const HEADER_ERROR: &str = "x-sluice-error";
pub const HEADER_ORIGINAL_QUEUE: &str = "x-sluice-original-queue";
pub const HEADER_FAILED_AT: &str = "x-sluice-failed-at";
/// How many times a message was retried through the delay queues.
pub const HEADER_RETRIES: &str = "x-sluice-retries";
/// Identity of one dead letter (the recorder stores it once, however often it is delivered).
pub const HEADER_DEAD_LETTER_ID: &str = "x-sluice-dead-letter-id";
/// Set on a record set aside alone (its run still completes, with a warning): the
/// dead-letter recorder does not fail the run for it.
pub const HEADER_QUARANTINED: &str = "x-sluice-quarantined";

/// Headers of a quarantined record's dead letter.
pub fn quarantine_headers() -> FieldTable {
    let mut headers = FieldTable::default();
    headers.insert(HEADER_QUARANTINED.into(), AMQPValue::Boolean(true));
    headers
}

/// Delays of the retry tiers by default: the n-th retry of a message waits the n-th delay
/// (the last one repeats).
pub const DEFAULT_RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
];
pub const DEFAULT_MAX_RETRIES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("rabbitmq: {0}")]
    Broker(#[from] lapin::Error),
    #[error("rabbitmq refused the message for {queue} (nack)")]
    Nacked { queue: String },
    #[error("no queue {queue} to route the message to")]
    Unroutable { queue: String },
}

/// Queue and exchange names, optionally prefixed so several deployments share a broker, and
/// the retry policy: a message whose handler asks for a retry waits in a delay queue (one per
/// delay, `etl.retry.<ms>ms`, whose TTL sends it back to its own queue) and carries a retry
/// count; after `max_retries` it goes to `etl.failed` with its last error.
#[derive(Debug, Clone)]
pub struct Topology {
    prefix: String,
    retry_delays: Vec<Duration>,
    max_retries: u32,
}

impl Default for Topology {
    fn default() -> Self {
        Topology::new("")
    }
}

impl Topology {
    pub fn new(prefix: &str) -> Self {
        Topology {
            prefix: prefix.to_string(),
            retry_delays: DEFAULT_RETRY_DELAYS.to_vec(),
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }

    /// Retry delays (each ≥ 1 ms; empty means no retries) and the number of retries.
    pub fn with_retries(mut self, delays: Vec<Duration>, max_retries: u32) -> Self {
        self.max_retries = if delays.is_empty() { 0 } else { max_retries };
        self.retry_delays = delays;
        self
    }

    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before retry number `attempt` (1-based).
    pub fn retry_delay(&self, attempt: u32) -> Option<Duration> {
        let last = self.retry_delays.len().checked_sub(1)?;
        Some(self.retry_delays[(attempt.saturating_sub(1) as usize).min(last)])
    }

    /// Exchange (and queue) holding messages for `delay` before they return.
    pub fn retry_queue(&self, delay: Duration) -> String {
        self.name(&format!("etl.retry.{}ms", delay.as_millis()))
    }

    fn retry_tiers(&self) -> Vec<Duration> {
        let mut tiers = self.retry_delays.clone();
        tiers.sort();
        tiers.dedup();
        tiers
    }
    fn name(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }
    pub fn extract(&self) -> String {
        self.name("etl.extract")
    }
    pub fn custom_fields(&self) -> String {
        self.name("etl.custom_fields")
    }
    pub fn transform(&self) -> String {
        self.name("etl.transform")
    }
    pub fn load(&self) -> String {
        self.name("etl.load")
    }
    pub fn vectorization(&self) -> String {
        self.name("etl.vectorization")
    }
    pub fn failed(&self) -> String {
        self.name("etl.failed")
    }
    pub fn dead_letter_exchange(&self) -> String {
        self.name("etl.dlx")
    }
    pub fn work_queues(&self) -> Vec<String> {
        vec![
            self.extract(),
            self.custom_fields(),
            self.transform(),
            self.load(),
            self.vectorization(),
        ]
    }

    /// Declares every exchange and queue (idempotent). Work queues dead-letter to `etl.dlx`,
    /// which routes everything to the bounded `etl.failed`.
    pub async fn declare(&self, channel: &Channel) -> Result<(), AmqpError> {
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .exchange_declare(
                self.dead_letter_exchange().into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let mut failed_args = FieldTable::default();
        failed_args.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(DEAD_LETTER_MAX_LENGTH),
        );
        failed_args.insert(
            "x-overflow".into(),
            AMQPValue::LongString("reject-publish".into()),
        );
        channel
            .queue_declare(self.failed().into(), durable, failed_args)
            .await?;
        channel
            .queue_bind(
                self.failed().into(),
                self.dead_letter_exchange().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        for queue in self.work_queues() {
            let mut args = FieldTable::default();
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(self.dead_letter_exchange().into()),
            );
            channel.queue_declare(queue.into(), durable, args).await?;
        }
        // Delay queues: published to through their fanout exchange with the original queue as
        // routing key; on expiry the message is dead-lettered to the default exchange with
        // that routing key, i.e. back onto its own queue.
        for delay in self.retry_tiers() {
            let name = self.retry_queue(delay);
            channel
                .exchange_declare(
                    name.as_str().into(),
                    ExchangeKind::Fanout,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..ExchangeDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await?;
            let mut args = FieldTable::default();
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(delay.as_millis().max(1) as i64),
            );
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString("".into()),
            );
            channel
                .queue_declare(name.as_str().into(), durable, args)
                .await?;
            channel
                .queue_bind(
                    name.as_str().into(),
                    name.as_str().into(),
                    "".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }
}

impl Topology {
    /// Deletes every queue and the dead-letter exchange of this topology (test runs and
    /// benchmarks use their own prefix and clean up after themselves).
    pub async fn remove(&self, channel: &Channel) -> Result<(), AmqpError> {
        let mut queues = self.work_queues();
        queues.push(self.failed());
        let retry_queues: Vec<String> = self
            .retry_tiers()
            .into_iter()
            .map(|delay| self.retry_queue(delay))
            .collect();
        queues.extend(retry_queues.iter().cloned());
        for exchange in &retry_queues {
            channel
                .exchange_delete(
                    exchange.as_str().into(),
                    lapin::options::ExchangeDeleteOptions::default(),
                )
                .await?;
        }
        for queue in queues {
            channel
                .queue_delete(
                    queue.as_str().into(),
                    lapin::options::QueueDeleteOptions::default(),
                )
                .await?;
        }
        channel
            .exchange_delete(
                self.dead_letter_exchange().as_str().into(),
                lapin::options::ExchangeDeleteOptions::default(),
            )
            .await?;
        Ok(())
    }
}

/// Connects, retrying with backoff for up to `timeout`.
pub async fn connect(url: &str, timeout: Duration) -> anyhow::Result<Connection> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(200);
    loop {
        match Connection::connect(url, ConnectionProperties::default()).await {
            Ok(connection) => return Ok(connection),
            Err(error) if tokio::time::Instant::now() + delay < deadline => {
                warn!(%error, retry_in_ms = delay.as_millis() as u64, url = %redact_url(url), "rabbitmq not reachable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                return Err(anyhow::anyhow!(
                    "cannot connect to RabbitMQ at {}: {error}",
                    redact_url(url)
                ));
            }
        }
    }
}

/// Publishes persistent protobuf messages with publisher confirms; a nack is an error.
#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
    topology: Topology,
}

impl Publisher {
    pub async fn open(connection: &Connection, topology: Topology) -> Result<Self, AmqpError> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Publisher { channel, topology })
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Publishes `message` to `queue` through the default exchange and waits for the confirm.
    pub async fn publish<M: prost::Message>(
        &self,
        queue: &str,
        message: &M,
    ) -> Result<(), AmqpError> {
        let mut headers = FieldTable::default();
        telemetry::inject_amqp(&mut headers);
        let properties = persistent(headers);
        self.publish_raw("", queue, &message.encode_to_vec(), properties)
            .await
    }

    /// Sends a message that cannot be processed to `etl.failed` with its reason, keeping the
    /// original payload and headers so it can be requeued once the cause is fixed.
    pub async fn dead_letter(
        &self,
        original_queue: &str,
        payload: &[u8],
        original_headers: Option<&FieldTable>,
        reason: &str,
        error: &str,
    ) -> Result<(), AmqpError> {
        let mut headers = original_headers.cloned().unwrap_or_default();
        headers.insert(HEADER_REASON.into(), AMQPValue::LongString(reason.into()));
        headers.insert(HEADER_ERROR.into(), AMQPValue::LongString(error.into()));
        headers.insert(
            HEADER_ORIGINAL_QUEUE.into(),
            AMQPValue::LongString(original_queue.into()),
        );
        headers.insert(
            HEADER_DEAD_LETTER_ID.into(),
            AMQPValue::LongString(uuid::Uuid::new_v4().to_string().into()),
        );
        headers.insert(
            HEADER_FAILED_AT.into(),
            AMQPValue::LongString(chrono::Utc::now().to_rfc3339().into()),
        );
        let properties = persistent(headers);
        let exchange = self.topology.dead_letter_exchange();
        self.publish_raw(&exchange, original_queue, payload, properties)
            .await
    }

    /// Sends a message back to `original_queue` after the delay of retry number `attempt`,
    /// recording the attempt in its headers.
    pub async fn retry_later(
        &self,
        original_queue: &str,
        payload: &[u8],
        original_headers: Option<&FieldTable>,
        attempt: u32,
        error: &str,
    ) -> Result<(), AmqpError> {
        let delay = self.topology.retry_delay(attempt).unwrap_or(Duration::ZERO);
        let mut headers = original_headers.cloned().unwrap_or_default();
        headers.insert(
            HEADER_RETRIES.into(),
            AMQPValue::LongLongInt(attempt as i64),
        );
        headers.insert(HEADER_ERROR.into(), AMQPValue::LongString(error.into()));
        let properties = persistent(headers);
        let exchange = self.topology.retry_queue(delay);
        self.publish_raw(&exchange, original_queue, payload, properties)
            .await
    }

    /// Publishes a payload as it was (a requeued dead letter) to `queue`.
    pub async fn publish_bytes(
        &self,
        queue: &str,
        payload: &[u8],
        headers: FieldTable,
    ) -> Result<(), AmqpError> {
        let properties = persistent(headers);
        self.publish_raw("", queue, payload, properties).await
    }

    async fn publish_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<(), AmqpError> {
        let confirm = self
            .channel
            .basic_publish(
                ShortString::from(exchange),
                ShortString::from(routing_key),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                payload,
                properties,
            )
            .await?
            .await?;
        match confirm {
            Confirmation::Ack(None) | Confirmation::NotRequested => Ok(()),
            Confirmation::Ack(Some(_)) => Err(AmqpError::Unroutable {
                queue: routing_key.to_string(),
            }),
            Confirmation::Nack(_) => Err(AmqpError::Nacked {
                queue: routing_key.to_string(),
            }),
        }
    }
}

/// Properties of every message Sluice publishes: persistent, protobuf, with `headers`.
fn persistent(headers: FieldTable) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/x-protobuf".into())
        .with_headers(headers)
}

/// A delivered message, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Message {
    pub data: Vec<u8>,
    pub headers: Option<FieldTable>,
    pub redelivered: bool,
}

/// What to do with a message once handled.
#[derive(Debug)]
pub enum Outcome {
    /// Done and committed: acknowledge.
    Ack,
    /// Can never succeed (malformed, unknown run): move to `etl.failed` with the reason.
    DeadLetter { reason: String, error: String },
    /// Might succeed later (database or broker trouble): requeue after a pause.
    Retry { error: String },
}

/// Where and how a consumer runs.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    pub amqp_url: String,
    pub topology: Topology,
    pub queue: String,
    pub prefetch: u16,
    pub connect_timeout: Duration,
    /// Retries go through the delay queues and end in `etl.failed` (every work queue). False
    /// for the consumer of `etl.failed` itself, whose retries are plain requeues.
    pub delayed_retries: bool,
}

/// Consumes `settings.queue` until `shutdown` is cancelled, reconnecting after broker
/// failures. A message is acknowledged only after its handler returns `Ack` (the handler
/// commits first); the in-flight message is finished before shutting down.
pub async fn consume<H, Fut>(settings: ConsumerSettings, handler: H, shutdown: CancellationToken)
where
    H: Fn(Message, Publisher) -> Fut + Send + Sync,
    Fut: Future<Output = Outcome> + Send,
{
    let handler = &handler;
    consume_batches(
        settings,
        Batching::one_at_a_time(),
        move |mut messages: Vec<Message>, publisher| async move {
            match messages.pop() {
                Some(message) => vec![handler(message, publisher).await],
                None => Vec::new(),
            }
        },
        shutdown,
    )
    .await
}

/// How many deliveries a batch handler gets at once.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// At most this many messages per call (keep the prefetch at least this high).
    pub max_messages: usize,
    /// After the first message, wait at most this long for more.
    pub linger: Duration,
}

impl Batching {
    pub fn one_at_a_time() -> Self {
        Batching {
            max_messages: 1,
            linger: Duration::ZERO,
        }
    }
}

/// As [`consume`], handing the handler up to `batching.max_messages` messages at once (one
/// database transaction for many messages). The handler returns one outcome per message,
/// in order.
pub async fn consume_batches<H, Fut>(
    settings: ConsumerSettings,
    batching: Batching,
    handler: H,
    shutdown: CancellationToken,
) where
    H: Fn(Vec<Message>, Publisher) -> Fut + Send + Sync,
    Fut: Future<Output = Vec<Outcome>> + Send,
{
    let mut delay = Duration::from_millis(500);
    while !shutdown.is_cancelled() {
        match consume_session(&settings, batching, &handler, &shutdown).await {
            Ok(()) => return,
            Err(error) => {
                warn!(%error, queue = %settings.queue, retry_in_ms = delay.as_millis() as u64, "consumer lost its broker connection");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn consume_session<H, Fut>(
    settings: &ConsumerSettings,
    batching: Batching,
    handler: &H,
    shutdown: &CancellationToken,
) -> anyhow::Result<()>
where
    H: Fn(Vec<Message>, Publisher) -> Fut + Send + Sync,
    Fut: Future<Output = Vec<Outcome>> + Send,
{
    let connection = connect(&settings.amqp_url, settings.connect_timeout).await?;
    let channel = connection.create_channel().await?;
    settings.topology.declare(&channel).await?;
    channel
        .basic_qos(settings.prefetch, BasicQosOptions::default())
        .await?;
    let publisher = Publisher::open(&connection, settings.topology.clone()).await?;
    let mut consumer = channel
        .basic_consume(
            settings.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    info!(queue = %settings.queue, prefetch = settings.prefetch, batch = batching.max_messages, "consuming");
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => {
                // Unacked prefetched messages go back to the queue when the channel closes.
                let _ = channel.close(200, "shutdown".into()).await;
                let _ = connection.close(200, "shutdown".into()).await;
                return Ok(());
            }
            next = consumer.next() => next,
        };
        let mut deliveries = vec![match first {
            Some(Ok(delivery)) => delivery,
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("consumer stream ended"),
        }];
        let deadline = tokio::time::Instant::now() + batching.linger;
        while deliveries.len() < batching.max_messages {
            match tokio::time::timeout_at(deadline, consumer.next()).await {
                Ok(Some(Ok(delivery))) => deliveries.push(delivery),
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(None) => anyhow::bail!("consumer stream ended"),
                Err(_) => break,
            }
        }
        let span = tracing::info_span!("amqp.consume", queue = %settings.queue, messages = deliveries.len());
        // The batch joins the first message's trace and links every message's context, so
        // each run whose message is in the batch can find it.
        telemetry::set_parent_and_links_from_amqp(
            &span,
            deliveries.iter().map(|d| d.properties.headers().as_ref()),
        );
        let metrics = crate::metrics::get();
        metrics
            .messages_consumed
            .add(&[&settings.queue], deliveries.len() as u64);
        let started = std::time::Instant::now();
        let messages: Vec<Message> = deliveries
            .iter()
            .map(|delivery| Message {
                data: delivery.data.clone(),
                headers: delivery.properties.headers().clone(),
                redelivered: delivery.redelivered,
            })
            .collect();
        let outcomes = handle_guarded(handler, messages, &publisher)
            .instrument(span.clone())
            .await;
        metrics
            .batch_duration
            .observe(&[&settings.queue], started.elapsed());
        let mut outcomes = outcomes.into_iter();
        for delivery in &deliveries {
            // A handler that returns too few outcomes gets the rest retried, never lost.
            let outcome = outcomes.next().unwrap_or(Outcome::Retry {
                error: "handler returned no outcome for this message".into(),
            });
            // Instrumented, not entered: a span entered across an await can be left on a
            // worker thread's context stack, which aborts the process when that thread ends.
            finish(settings, &publisher, delivery, outcome)
                .instrument(span.clone())
                .await?;
        }
    }
}

/// Runs the handler; a panic does not end the consumer. A message whose handling panics is
/// dead-lettered with the panic's text (it would panic again on every redelivery); in a
/// batch that panicked, each message is handled again on its own, so only the one that
/// panics is set aside and the others go on.
async fn handle_guarded<H, Fut>(
    handler: &H,
    messages: Vec<Message>,
    publisher: &Publisher,
) -> Vec<Outcome>
where
    H: Fn(Vec<Message>, Publisher) -> Fut + Send + Sync,
    Fut: Future<Output = Vec<Outcome>> + Send,
{
    use futures_util::FutureExt;
    use std::panic::AssertUnwindSafe;
    let single = messages.len() == 1;
    let first_try = AssertUnwindSafe(handler(messages.clone(), publisher.clone()))
        .catch_unwind()
        .await;
    let panic = match first_try {
        Ok(outcomes) => return outcomes,
        Err(panic) => panic,
    };
    if single {
        return vec![panicked(panic)];
    }
    warn!(
        messages = messages.len(),
        "a batch handler panicked; handling each message on its own"
    );
    let mut outcomes = Vec::with_capacity(messages.len());
    for message in messages {
        match AssertUnwindSafe(handler(vec![message], publisher.clone()))
            .catch_unwind()
            .await
        {
            Ok(mut one) => outcomes.push(one.pop().unwrap_or(Outcome::Retry {
                error: "handler returned no outcome for this message".into(),
            })),
            Err(panic) => outcomes.push(panicked(panic)),
        }
    }
    outcomes
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> Outcome {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    warn!(panic = %text, "message handler panicked; the message is dead-lettered");
    Outcome::DeadLetter {
        reason: "handler panicked".into(),
        error: text,
    }
}

/// Acknowledges, dead-letters (then acknowledges) or requeues one delivery.
async fn finish(
    settings: &ConsumerSettings,
    publisher: &Publisher,
    delivery: &lapin::message::Delivery,
    outcome: Outcome,
) -> anyhow::Result<()> {
    let metrics = crate::metrics::get();
    let queue = [settings.queue.as_str()];
    match outcome {
        Outcome::Ack => {
            delivery.acker.ack(BasicAckOptions::default()).await?;
            metrics.messages_acked.inc(&queue);
        }
        Outcome::DeadLetter { reason, error } => {
            warn!(queue = %settings.queue, %reason, %error, "message dead-lettered");
            match publisher
                .dead_letter(
                    &settings.queue,
                    &delivery.data,
                    delivery.properties.headers().as_ref(),
                    &reason,
                    &error,
                )
                .await
            {
                Ok(()) => {
                    delivery.acker.ack(BasicAckOptions::default()).await?;
                    metrics.messages_dead_lettered.inc(&queue);
                }
                Err(dead_letter_error) => {
                    warn!(error = %dead_letter_error, "dead letter not accepted; requeueing the message");
                    requeue_after_pause(&delivery.acker).await?;
                }
            }
        }
        Outcome::Retry { error } if !settings.delayed_retries => {
            warn!(queue = %settings.queue, %error, "message will be retried");
            requeue_after_pause(&delivery.acker).await?;
            metrics.messages_retried.inc(&queue);
        }
        Outcome::Retry { error } => {
            let headers = delivery.properties.headers().as_ref();
            let attempt = header_int(headers, HEADER_RETRIES).unwrap_or(0) as u32 + 1;
            let max = settings.topology.max_retries();
            let exhausted = attempt > max;
            let sent = if exhausted {
                warn!(queue = %settings.queue, %error, retries = max, "retries exhausted; message dead-lettered");
                publisher
                    .dead_letter(
                        &settings.queue,
                        &delivery.data,
                        headers,
                        "retries exhausted",
                        &format!("{error} (after {max} retries)"),
                    )
                    .await
            } else {
                warn!(queue = %settings.queue, %error, attempt, max, "message will be retried");
                publisher
                    .retry_later(&settings.queue, &delivery.data, headers, attempt, &error)
                    .await
            };
            match sent {
                Ok(()) => {
                    delivery.acker.ack(BasicAckOptions::default()).await?;
                    if exhausted {
                        metrics.messages_dead_lettered.inc(&queue);
                    } else {
                        metrics.messages_retried.inc(&queue);
                    }
                }
                Err(publish_error) => {
                    warn!(error = %publish_error, "retry not accepted by the broker; requeueing the message");
                    requeue_after_pause(&delivery.acker).await?;
                }
            }
        }
    }
    Ok(())
}

async fn requeue_after_pause(acker: &lapin::Acker) -> Result<(), lapin::Error> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    acker
        .nack(BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        })
        .await?;
    Ok(())
}

/// Reads an integer header.
pub fn header_int(headers: Option<&FieldTable>, name: &str) -> Option<i64> {
    headers?
        .inner()
        .iter()
        .find_map(|(key, value)| match value {
            AMQPValue::LongLongInt(n) if key.as_str() == name => Some(*n),
            AMQPValue::LongInt(n) if key.as_str() == name => Some(i64::from(*n)),
            AMQPValue::ShortInt(n) if key.as_str() == name => Some(i64::from(*n)),
            _ => None,
        })
}

/// Reads a string header.
pub fn header_str(headers: Option<&FieldTable>, name: &str) -> Option<String> {
    headers?
        .inner()
        .iter()
        .find_map(|(key, value)| match value {
            AMQPValue::LongString(text) if key.as_str() == name => Some(text.to_string()),
            _ => None,
        })
}

/// A publisher that reconnects on the next publish after the broker connection was lost.
pub struct ReconnectingPublisher {
    amqp_url: String,
    topology: Topology,
    connect_timeout: Duration,
    current: tokio::sync::Mutex<Option<(Connection, Publisher)>>,
}

impl ReconnectingPublisher {
    pub fn new(amqp_url: &str, topology: Topology, connect_timeout: Duration) -> Self {
        ReconnectingPublisher {
            amqp_url: amqp_url.to_string(),
            topology,
            connect_timeout,
            current: tokio::sync::Mutex::new(None),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub async fn publish<M: prost::Message>(&self, queue: &str, message: &M) -> anyhow::Result<()> {
        let publisher = self.connected().await?;
        let result = publisher.publish(queue, message).await;
        self.forget_on_error(&result).await;
        Ok(result?)
    }

    /// Publishes a payload as it is, with `headers` (requeued dead letters).
    pub async fn publish_bytes(
        &self,
        queue: &str,
        payload: &[u8],
        headers: FieldTable,
    ) -> anyhow::Result<()> {
        let publisher = self.connected().await?;
        let result = publisher.publish_bytes(queue, payload, headers).await;
        self.forget_on_error(&result).await;
        Ok(result?)
    }

    /// Ready messages and consumers of `queue` (a passive declare on a channel of its own:
    /// a missing queue closes that channel only). None if the queue does not exist.
    pub async fn queue_counts(&self, queue: &str) -> anyhow::Result<Option<(u32, u32)>> {
        self.connected().await?;
        let channel = {
            let current = self.current.lock().await;
            let Some((connection, _)) = current.as_ref() else {
                anyhow::bail!("no broker connection");
            };
            connection.create_channel().await?
        };
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await;
        match declared {
            Ok(state) => {
                let _ = channel.close(200, "done".into()).await;
                Ok(Some((state.message_count(), state.consumer_count())))
            }
            Err(error)
                if matches!(error.kind(), lapin::ErrorKind::ProtocolError(protocol)
                    if protocol.get_id() == 404) =>
            {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn connected(&self) -> anyhow::Result<Publisher> {
        let mut current = self.current.lock().await;
        if current
            .as_ref()
            .is_none_or(|(connection, _)| !connection.status().connected())
        {
            let connection = connect(&self.amqp_url, self.connect_timeout).await?;
            let channel = connection.create_channel().await?;
            self.topology.declare(&channel).await?;
            let publisher = Publisher::open(&connection, self.topology.clone()).await?;
            *current = Some((connection, publisher));
        }
        match current.as_ref() {
            Some((_, publisher)) => Ok(publisher.clone()),
            None => anyhow::bail!("no broker connection"),
        }
    }

    async fn forget_on_error<T>(&self, result: &Result<T, AmqpError>) {
        if result.is_err() {
            // Start from a fresh connection next time.
            *self.current.lock().await = None;
        }
    }
}

/// Starts `config.consumers` consumers of `queue` (each with its own connection), as every
/// worker service does; they stop when `shutdown` is cancelled.
pub fn spawn_consumers<H, Fut>(
    config: &crate::CommonConfig,
    queue: String,
    prefetch: u16,
    handler: H,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>>
where
    H: Fn(Message, Publisher) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let topology = config.topology();
    (0..config.consumers)
        .map(|_| {
            let settings = ConsumerSettings {
                amqp_url: config.amqp_url.clone(),
                topology: topology.clone(),
                queue: queue.clone(),
                prefetch,
                connect_timeout: config.connect_timeout,
                delayed_retries: true,
            };
            tokio::spawn(consume(settings, handler.clone(), shutdown.clone()))
        })
        .collect()
}

/// As [`spawn_consumers`], with handlers that take up to `batching.max_messages` at once.
pub fn spawn_batch_consumers<H, Fut>(
    config: &crate::CommonConfig,
    queue: String,
    batching: Batching,
    handler: H,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>>
where
    H: Fn(Vec<Message>, Publisher) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Vec<Outcome>> + Send + 'static,
{
    let topology = config.topology();
    (0..config.consumers)
        .map(|_| {
            let settings = ConsumerSettings {
                amqp_url: config.amqp_url.clone(),
                topology: topology.clone(),
                queue: queue.clone(),
                // Enough unacknowledged messages to fill a batch.
                prefetch: config.prefetch.max(batching.max_messages as u16),
                connect_timeout: config.connect_timeout,
                delayed_retries: true,
            };
            tokio::spawn(consume_batches(
                settings,
                batching,
                handler.clone(),
                shutdown.clone(),
            ))
        })
        .collect()
}
