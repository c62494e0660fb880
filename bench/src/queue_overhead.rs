//! Queue overhead per message: Sluice's publisher (persistent, publisher confirm, trace
//! headers) and consumer loop (prefetch, handler, ack after it returns) against bare lapin
//! round trips on the same broker in the same run.
//!
//! ```sh
//! cargo build --release -p sluice-bench
//! target/release/queue-overhead --messages 20000
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use prost::Message as _;
use sluice_plumbing::amqp::{ConsumerSettings, Outcome, Publisher, Topology};
use sluice_proto::v1 as pb;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Args {
    /// Messages per measurement.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    #[arg(
        long,
        env = "SLUICE_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
}

/// A typical etl.transform message.
fn payload() -> Vec<u8> {
    pb::RawBatchRef {
        run: Some(pb::RunContext {
            tenant_id: uuid::Uuid::new_v4().to_string(),
            integration_id: uuid::Uuid::new_v4().to_string(),
            job_id: uuid::Uuid::new_v4().to_string(),
            run_id: uuid::Uuid::new_v4().to_string(),
            trace: None,
        }),
        raw_id: 123_456,
        extraction_type: "jira.issues".into(),
        step: 3,
        record_indexes: Vec::new(),
        grouped_raw_ids: Vec::new(),
    }
    .encode_to_vec()
}

struct Measured {
    round_trip_us: f64,
    throughput: f64,
}

/// Bare lapin: publish (optionally confirmed) on one channel, consume and ack on another.
async fn bare(url: &str, messages: usize, confirms: bool) -> anyhow::Result<Measured> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let publish = connection.create_channel().await?;
    if confirms {
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
    }
    let consume = connection.create_channel().await?;
    consume.basic_qos(8, BasicQosOptions::default()).await?;
    let queue = format!("bench-bare-{}", uuid::Uuid::new_v4().simple());
    consume
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    let mut consumer = consume
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let body = payload();
    let send = move |publish: lapin::Channel, queue: String, body: Vec<u8>| async move {
        let confirm = publish
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await?;
        if confirms {
            confirm.await?;
        }
        Ok::<_, lapin::Error>(())
    };

    // One message in flight at a time.
    let started = Instant::now();
    for _ in 0..messages {
        send(publish.clone(), queue.clone(), body.clone()).await?;
        let delivery = consumer.next().await.expect("delivery")?;
        delivery.acker.ack(BasicAckOptions::default()).await?;
    }
    let round_trip_us = started.elapsed().as_secs_f64() * 1e6 / messages as f64;

    // Publisher and consumer at once.
    let started = Instant::now();
    let producer = {
        let (publish, queue, body) = (publish.clone(), queue.clone(), body.clone());
        tokio::spawn(async move {
            for _ in 0..messages {
                send(publish.clone(), queue.clone(), body.clone()).await?;
            }
            Ok::<_, lapin::Error>(())
        })
    };
    for _ in 0..messages {
        let delivery = consumer.next().await.expect("delivery")?;
        delivery.acker.ack(BasicAckOptions::default()).await?;
    }
    producer.await??;
    let throughput = messages as f64 / started.elapsed().as_secs_f64();
    consume
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await?;
    Ok(Measured {
        round_trip_us,
        throughput,
    })
}

/// Sluice's Publisher (confirmed, persistent, trace headers) and consumer loop.
async fn sluice(url: &str, messages: usize) -> anyhow::Result<Measured> {
    let topology = Topology::new(&format!("bench-q-{}.", uuid::Uuid::new_v4().simple()));
    let connection = sluice_plumbing::amqp::connect(url, Duration::from_secs(5)).await?;
    let channel = connection.create_channel().await?;
    topology.declare(&channel).await?;
    let publisher = Publisher::open(&connection, topology.clone()).await?;
    let (handled, mut received) = tokio::sync::mpsc::unbounded_channel::<()>();
    let shutdown = CancellationToken::new();
    let consumer = tokio::spawn(sluice_plumbing::amqp::consume(
        ConsumerSettings {
            amqp_url: url.to_string(),
            topology: topology.clone(),
            queue: topology.transform(),
            prefetch: 8,
            connect_timeout: Duration::from_secs(5),
            delayed_retries: true,
        },
        move |message, _publisher| {
            let handled = handled.clone();
            async move {
                // What a worker does first: decode the reference.
                let decoded = pb::RawBatchRef::decode(message.data.as_slice());
                let _ = handled.send(());
                match decoded {
                    Ok(_) => Outcome::Ack,
                    Err(error) => Outcome::DeadLetter {
                        reason: "malformed".into(),
                        error: error.to_string(),
                    },
                }
            }
        },
        shutdown.clone(),
    ));
    let reference = pb::RawBatchRef::decode(payload().as_slice())?;
    let queue = topology.transform();
    // Let the consumer attach.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    for _ in 0..messages {
        publisher.publish(&queue, &reference).await?;
        received.recv().await.expect("handled");
    }
    let round_trip_us = started.elapsed().as_secs_f64() * 1e6 / messages as f64;

    let started = Instant::now();
    let producer = {
        let (publisher, queue, reference) = (publisher.clone(), queue.clone(), reference.clone());
        tokio::spawn(async move {
            for _ in 0..messages {
                publisher.publish(&queue, &reference).await?;
            }
            Ok::<_, sluice_plumbing::amqp::AmqpError>(())
        })
    };
    for _ in 0..messages {
        received.recv().await.expect("handled");
    }
    producer.await??;
    let throughput = messages as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    let _ = consumer.await;
    topology.remove(&channel).await?;
    Ok(Measured {
        round_trip_us,
        throughput,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let n = args.messages;
    println!(
        "measuring {n} messages each (round trip: one in flight; throughput: publisher and consumer at once)"
    );
    let plain = bare(&args.amqp_url, n, false).await?;
    let confirmed = bare(&args.amqp_url, n, true).await?;
    let ours = sluice(&args.amqp_url, n).await?;
    println!();
    println!(
        "## Queue overhead per message ({n} messages, {} bytes each)",
        payload().len()
    );
    println!();
    println!("| path | round trip (µs/message) | throughput (messages/s) |");
    println!("|---|---|---|");
    for (name, m) in [
        ("bare lapin: persistent publish, consume, ack", &plain),
        ("bare lapin + publisher confirm", &confirmed),
        (
            "Sluice Publisher + consumer loop (confirm, trace headers, ack after handler)",
            &ours,
        ),
    ] {
        println!("| {name} | {:.0} | {:.0} |", m.round_trip_us, m.throughput);
    }
    println!();
    println!(
        "Sluice over bare: +{:.0} µs per message one at a time ({:.2}×), {:.2}× the bare throughput; over bare with confirms: +{:.0} µs",
        ours.round_trip_us - plain.round_trip_us,
        ours.round_trip_us / plain.round_trip_us,
        ours.throughput / plain.throughput,
        ours.round_trip_us - confirmed.round_trip_us,
    );
    Ok(())
}
