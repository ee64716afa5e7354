//! `iot-ca`: AWS IoT CA registration decisions on the command line.
//!
//! This binary is the I/O edge of the `iot-ca` library: it alone reads files, the system clock
//! and the OS RNG. Exit codes: 0 with a JSON document on stdout on success; 1 with the error
//! JSON a botocore client would see on stdout when the service would answer with an
//! exception; 2 with a message on stderr for usage errors.

mod certificates;
mod demo;
mod keys;
mod registry;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountId, AccountScope, KeyAlgorithm, KeyPair, ParsedCertificate, Partition, Policy, Region, RegistrationCode,
    TemplateName, UnixTime, VerifiedCa,
};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "iot-ca",
    version,
    about = "AWS IoT Core CA registration, checked locally: preflight a CA, make its verification certificate, issue provisioning claims, register device certificates, decide device connects (JITR/JITP)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyAlgorithmArg {
    Rsa2048,
    P256,
}

impl From<KeyAlgorithmArg> for KeyAlgorithm {
    fn from(a: KeyAlgorithmArg) -> Self {
        match a {
            KeyAlgorithmArg::Rsa2048 => Self::Rsa2048,
            KeyAlgorithmArg::P256 => Self::P256,
        }
    }
}

/// The account, region and partition a call is made in (they make the ARNs).
#[derive(clap::Args)]
struct AccountArgs {
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The ARNs' partition; by default the region's (cn-* → aws-cn, us-gov-* → aws-us-gov, …).
    #[arg(long)]
    partition: Option<String>,
}

impl AccountArgs {
    fn scope(&self) -> Result<AccountScope, Usage> {
        let scope = AccountScope::new(AccountId::parse(&self.account_id)?, Region::parse(&self.region)?);
        Ok(match &self.partition {
            Some(partition) => scope.with_partition(Partition::parse(partition)?),
            None => scope,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// RegisterCACertificate, decided locally: the request AWS would get, and its answer.
    #[command(
        after_help = "Example:\n  iot-ca register --input request.json --registration-code $(jq -r .registrationCode code.json) \\\n      --registry state.json --account-id 123456789012 --region eu-west-1\n\nrequest.json is what `aws iot register-ca-certificate --cli-input-json` takes, e.g.\n  {\"caCertificate\": \"-----BEGIN CERTIFICATE-----…\", \"verificationCertificate\": \"…\", \"setAsActive\": true}\nstate.json (all members optional):\n  {\"caCertificates\": [PEM…], \"otherAccountsDefaultMode\": [PEM…],\n   \"provisioningTemplates\": [{\"templateName\": \"t\", \"type\": \"JITP\", \"enabled\": true}]}"
    )]
    Register {
        /// The request document (--cli-input-json shape).
        #[arg(long)]
        input: PathBuf,
        /// The account's registration code (64 lowercase hex).
        #[arg(long)]
        registration_code: String,
        /// What the account already holds (STATE.json).
        #[arg(long)]
        registry: Option<PathBuf>,
        /// The time to decide at, RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        account: AccountArgs,
        /// Refuse findings (RULES.md, 1.3) instead of reporting them.
        #[arg(long)]
        strict: bool,
    },
    /// RegisterCertificate (or, with --without-ca, RegisterCertificateWithoutCA), decided locally.
    #[command(
        after_help = "Example:\n  iot-ca register-certificate --input device.json --registry state.json --region eu-west-1\n\ndevice.json is what `aws iot register-certificate --cli-input-json` takes, e.g.\n  {\"certificatePem\": \"-----BEGIN CERTIFICATE-----…\", \"caCertificatePem\": \"…\", \"setAsActive\": true}\n(with --without-ca: {\"certificatePem\", \"status\"}).\nstate.json (all members optional):\n  {\"caCertificates\": [PEM | {\"certificatePem\", \"status\", \"autoRegistrationStatus\", \"certificateMode\", \"registrationConfig\"}…],\n   \"certificates\": [{\"certificatePem\", \"status\", \"creationDate\"?}…]}"
    )]
    RegisterCertificate {
        /// The request document (--cli-input-json shape).
        #[arg(long)]
        input: PathBuf,
        /// What the account already holds (STATE.json).
        #[arg(long)]
        registry: PathBuf,
        /// The time to decide at, RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        account: AccountArgs,
        /// RegisterCertificateWithoutCA: no CA, certificateMode SNI_ONLY.
        #[arg(long)]
        without_ca: bool,
    },
    /// A device connects with CHAIN (its certificate, then any CA certificates): CONNECT, REFUSE, JITR or JITP.
    #[command(
        after_help = "Example:\n  cat device.pem rootCA.pem > chain.pem\n  iot-ca connect --chain chain.pem --registry state.json\n  iot-ca connect --chain device.pem --sni --registry state.json   # JITP needs SNI\n\nPrints {\"decision\", \"certificateId\", \"caCertificateId\"?, \"reason\"?, \"event\"?: {\"topic\", \"payload\"}, \"parameters\"?}.\nExit 0 for every decision, 1 for a malformed chain, 2 for usage faults.\nstate.json: as for register-certificate, plus\n  \"provisioningTemplates\": [{\"templateName\", \"type\": \"JITP\", \"templateBody\"}]"
    )]
    Connect {
        /// The presented chain: PEM certificates, the device's first.
        #[arg(long)]
        chain: PathBuf,
        /// The device sent the Server Name Indication extension.
        #[arg(long)]
        sni: bool,
        /// What the account holds (STATE.json).
        #[arg(long)]
        registry: PathBuf,
        /// The time to decide at, RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        account: AccountArgs,
    },
    /// GetRegistrationCode: a fresh code from the OS RNG.
    #[command(after_help = "Example:\n  iot-ca get-registration-code > code.json")]
    GetRegistrationCode,
    /// Makes the proof-of-possession certificate the AWS guide makes with three openssl commands.
    #[command(
        after_help = "Example:\n  iot-ca create-verification-certificate --ca-cert rootCA.pem --ca-key rootCA.key \\\n      --registration-code $CODE --out-cert verificationCert.pem --out-key verificationCert.key"
    )]
    CreateVerificationCertificate {
        /// The CA certificate (PEM).
        #[arg(long)]
        ca_cert: PathBuf,
        /// The CA's private key (PKCS#8, PKCS#1 or SEC1 PEM; RSA, P-256 or P-384).
        #[arg(long)]
        ca_key: PathBuf,
        /// The account's registration code: the certificate's commonName.
        #[arg(long)]
        registration_code: String,
        /// notBefore, RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// The verification certificate's key pair.
        #[arg(long, value_enum, default_value = "p256")]
        key_algorithm: KeyAlgorithmArg,
        #[arg(long)]
        out_cert: PathBuf,
        #[arg(long)]
        out_key: PathBuf,
    },
    /// CreateProvisioningClaim: a five-minute claim certificate and key pair from your issuing CA.
    #[command(
        after_help = "Example:\n  iot-ca create-provisioning-claim --template-name fleet --issuer-cert issuer.pem \\\n      --issuer-key issuer.key --registry state.json > claim.json\n  jq -r .certificatePem claim.json > claim.pem && openssl verify -CAfile issuer.pem claim.pem"
    )]
    CreateProvisioningClaim {
        #[arg(long)]
        template_name: String,
        /// The issuing CA certificate (PEM).
        #[arg(long)]
        issuer_cert: PathBuf,
        /// The issuing CA's private key (PKCS#8, PKCS#1 or SEC1 PEM; RSA, P-256 or P-384).
        #[arg(long)]
        issuer_key: PathBuf,
        /// STATE.json; its provisioningTemplates say which templates exist.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        #[arg(long, value_enum, default_value = "rsa2048")]
        key_algorithm: KeyAlgorithmArg,
    },
    /// Preflight CreateCertificateFromCsr: the CSR checked as AWS checks it (strict PKCS#10, key
    /// policy, self-signature), then the certificate issued by your issuing CA.
    #[command(
        after_help = "Example:\n  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout dev.key \\\n      -out dev.csr -subj /CN=device-1\n  iot-ca create-certificate-from-csr --csr dev.csr --issuer-cert issuer.pem --issuer-key issuer.key \\\n      --set-as-active > issued.json"
    )]
    CreateCertificateFromCsr {
        /// The certificate signing request (PEM, CERTIFICATE REQUEST).
        #[arg(long)]
        csr: PathBuf,
        /// The issuing CA certificate (PEM).
        #[arg(long)]
        issuer_cert: PathBuf,
        /// The issuing CA's private key (PKCS#8, PKCS#1 or SEC1 PEM; RSA, P-256 or P-384).
        #[arg(long)]
        issuer_key: PathBuf,
        /// Issue it ACTIVE (default INACTIVE), as setAsActive.
        #[arg(long)]
        set_as_active: bool,
        /// RFC 3339 (default: the system clock).
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        account: AccountArgs,
    },
    /// The whole story on throwaway keys: code, CA, proof, registration, two refusals, a claim.
    #[command(after_help = "Example:\n  iot-ca demo")]
    Demo,
}

/// A usage error: exit 2, message on stderr.
struct Usage(String);

impl<E: std::fmt::Display> From<E> for Usage {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// Largest PEM file read (--ca-cert, --ca-key, --issuer-cert, --issuer-key, --csr), in bytes:
/// the most a field of `iot_ca::MAX_PEM_CHARS` characters (the service model's `CertificatePem`
/// max 65536) can take, a character being at most 4 bytes, which is the byte bound the library
/// itself applies. Every file the library could accept is read whole; its own checks answer
/// the rest.
const MAX_PEM_FILE_BYTES: u64 = 4 * iot_ca::MAX_PEM_CHARS as u64;

/// Largest STATE.json read (--registry), in bytes: 64 MiB, a thousand certificates at the
/// service's largest (`iot_ca::MAX_PEM_CHARS`) or tens of thousands of ordinary ones with their
/// templates, well past any account a local check is run against, yet a bound that keeps
/// `--registry /dev/zero` from taking all memory.
const MAX_REGISTRY_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What [`read_at_most`] read.
struct Bounded {
    /// The bytes read: at most the limit plus one.
    bytes: Vec<u8>,
    /// The source held more than the limit (`bytes` then has the limit plus one).
    more: bool,
    /// The file's size when it is a regular file; a FIFO or a device has none.
    regular_len: Option<u64>,
}

/// Reads at most `limit` bytes of `path`, and one more to tell whether there was more: a
/// regular file, a FIFO or a device (`/dev/zero`) alike, so no input grows without bound.
fn read_at_most(path: &Path, limit: u64) -> Result<Bounded, Usage> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Usage(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let regular_len = file.metadata().ok().filter(std::fs::Metadata::is_file).map(|m| m.len());
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(cannot)?;
    let more = bytes.len() as u64 > limit;
    Ok(Bounded { bytes, more, regular_len })
}

/// Reads a UTF-8 text file of at most `limit` bytes; `what` names the file in the message
/// when it holds more. Both faults are the user's choice of file, so usage errors (exit 2).
fn read(path: &Path, limit: u64, what: &str) -> Result<String, Usage> {
    let read = read_at_most(path, limit)?;
    if read.more {
        return Err(Usage(format!("{}: more than {limit} bytes (the limit for {what})", path.display())));
    }
    String::from_utf8(read.bytes).map_err(|e| Usage(format!("{}: not UTF-8: {e}", path.display())))
}

/// Reads a certificate, key or CSR file (PEM), at most [`MAX_PEM_FILE_BYTES`].
fn read_pem(path: &Path) -> Result<String, Usage> {
    read(path, MAX_PEM_FILE_BYTES, "a PEM file")
}

/// Reads a request document, stopping one byte past the largest the service accepts: a
/// document that is too large or not UTF-8 is the service's answer (exit 1), not a usage fault.
fn read_request(path: &Path) -> Result<Result<String, iot_ca::Error>, Usage> {
    let max = wire::MAX_REQUEST_JSON_BYTES;
    let read = read_at_most(path, max as u64)?;
    if read.more {
        return match read.regular_len.and_then(|s| usize::try_from(s).ok()) {
            // A regular file's size is known: the service's answer, with that size.
            Some(len) if len > max => Ok(Err(iot_ca::RequestError::DocumentTooLarge { len, max }.into())),
            // A FIFO or a device (/dev/zero) has no size, nor has a file whose metadata says
            // less than was read (procfs says 0, or it grew). DocumentTooLarge states a size
            // ("the request body has N bytes"), and neither 0 nor the bytes read would be true
            // of /dev/zero, so say only what is known, as a usage error.
            _ => Err(Usage(format!("{}: more than {max} bytes (the limit for a request document)", path.display()))),
        };
    }
    Ok(wire::request_document(&read.bytes).map(str::to_owned))
}

/// Reads a presented chain, at most as long as the library accepts plus one byte, which it
/// then refuses as too long. Bytes that are not UTF-8 become U+FFFD, so such a chain is
/// malformed (the service's answer, exit 1) rather than a usage fault.
fn read_chain(path: &Path) -> Result<String, Usage> {
    let limit = (iot_ca::MAX_CHAIN_CERTIFICATES * 4 * iot_ca::MAX_PEM_CHARS) as u64;
    Ok(String::from_utf8_lossy(&read_at_most(path, limit)?.bytes).into_owned())
}

fn write(path: &Path, text: &str) -> Result<(), Usage> {
    std::fs::write(path, text).map_err(|e| Usage(format!("cannot write {}: {e}", path.display())))
}

/// The one message for a failed write to stdout (a full disk, a closed pipe).
pub(crate) fn stdout_fault(e: std::io::Error) -> String {
    format!("cannot write to stdout: {e}")
}

pub(crate) fn now_or_clock(now: Option<&str>) -> Result<UnixTime, Usage> {
    match now {
        Some(text) => {
            UnixTime::parse_rfc3339(text).ok_or_else(|| Usage(format!("--now: '{text}' is not an RFC 3339 UTC time")))
        }
        None => Ok(UnixTime::from_system_time(std::time::SystemTime::now())),
    }
}

/// Issuing errors that come from arguments the user chose are usage faults, said plainly;
/// the rest are the service's answer.
fn issuing(result: Result<Value, iot_ca::Error>, key_arg: &str, cert_arg: &str) -> Result<Outcome, Usage> {
    use iot_ca::{Error, IssueError};
    match result {
        Err(Error::Issue(IssueError::SignerIsNotIssuer)) => {
            Err(Usage(format!("{key_arg} is not the key of {cert_arg}")))
        }
        Err(Error::Issue(IssueError::TimeOutOfRange { time })) => Err(Usage(format!(
            "the certificate would be valid at {time}, outside the years 1970 to 9999 a certificate can state: \
             choose another --now or --days"
        ))),
        other => Ok(service(other)),
    }
}

fn code(text: &str) -> Result<RegistrationCode, Usage> {
    RegistrationCode::parse(text).map_err(|e| Usage(format!("--registration-code: {e}")))
}

fn certificate_file(path: &Path) -> Result<ParsedCertificate, Usage> {
    ParsedCertificate::from_pem(&read_pem(path)?).map_err(|e| Usage(format!("{}: {e}", path.display())))
}

fn registry(path: Option<&Path>) -> Result<registry::Registry, Usage> {
    match path {
        Some(p) => Ok(registry::Registry::from_json(&read(p, MAX_REGISTRY_FILE_BYTES, "a registry file")?)?),
        None => Ok(registry::Registry::default()),
    }
}

/// The outcome of a subcommand: a document for stdout, success or a service error.
enum Outcome {
    Ok(Value),
    Service(Value),
}

fn service(result: Result<Value, iot_ca::Error>) -> Outcome {
    match result {
        Ok(v) => Outcome::Ok(v),
        Err(e) => Outcome::Service(wire::error_to_json(&e)),
    }
}

fn run(command: Command) -> Result<Outcome, Usage> {
    let mut rng = rand::rng();
    match command {
        Command::Register { input, registration_code, registry: state, now, account, strict } => {
            let now = now_or_clock(now.as_deref())?;
            let code = code(&registration_code)?;
            let scope = account.scope()?;
            let registry = registry(state.as_deref())?;
            let document = read_request(&input)?;
            let policy = if strict { Policy::strict() } else { Policy::default() };
            Ok(service((|| {
                let request = wire::register_request_from_json(&document?)?;
                let candidate = iot_ca::check(&request, &code, policy, now)?;
                let facts = registry.facts(&candidate);
                let registration = iot_ca::admit(candidate, &facts, &scope, &mut rng)?;
                Ok(wire::registration_to_json(&registration, TimeFormat::Rfc3339))
            })()))
        }
        Command::RegisterCertificate { input, registry: state, now, account, without_ca } => {
            let now = now_or_clock(now.as_deref())?;
            let scope = account.scope()?;
            let registry = registry(Some(&state))?;
            let document = read_request(&input)?;
            Ok(service(document.and_then(|d| certificates::register(&d, without_ca, &registry, &scope, &mut rng, now))))
        }
        Command::Connect { chain, sni, registry: state, now, account } => {
            let now = now_or_clock(now.as_deref())?;
            let scope = account.scope()?;
            let registry = registry(Some(&state))?;
            let chain = read_chain(&chain)?;
            Ok(service(certificates::connect(&chain, sni, &registry, &scope, &mut rng, now)))
        }
        Command::GetRegistrationCode => {
            Ok(Outcome::Ok(wire::registration_code_to_json(&RegistrationCode::generate(&mut rng))))
        }
        Command::CreateVerificationCertificate {
            ca_cert,
            ca_key,
            registration_code,
            now,
            days,
            key_algorithm,
            out_cert,
            out_key,
        } => {
            let now = now_or_clock(now.as_deref())?;
            let code = code(&registration_code)?;
            let not_after = now
                .checked_add(i64::from(days) * 86_400)
                .filter(|t| *t <= UnixTime::MAX)
                .ok_or_else(|| Usage(format!("--days {days} from {now} ends after 9999-12-31T23:59:59Z")))?;
            let ca = certificate_file(&ca_cert)?;
            if let Err(e) = VerifiedCa::from_der(ca.der().to_vec(), now, Policy::default()) {
                return Err(Usage(format!("--ca-cert {} is not a CA certificate AWS accepts: {e}", ca_cert.display())));
            }
            let signer =
                keys::Signer::from_pem(&read_pem(&ca_key)?).map_err(|e| Usage(format!("{}: {e}", ca_key.display())))?;
            let pair = KeyPair::generate(key_algorithm.into(), iot_ca::Backend::preferred(), &mut rng)
                .map_err(|e| Usage(e.to_string()))?;
            let der = match signer.verification_certificate(
                &iot_ca::VerificationCertificateParams::new(&ca, pair.spki_der(), &code, not_after),
                &mut rng,
                now,
            ) {
                Ok(der) => der,
                Err(e) => return issuing(Err(e), "--ca-key", "--ca-cert"),
            };
            let pem = pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der)?;
            write(&out_cert, &pem)?;
            write(&out_key, pair.private_key_pem())?;
            Ok(Outcome::Ok(json!({
                "certificateFile": out_cert.display().to_string(),
                "keyFile": out_key.display().to_string(),
                "certificateId": iot_ca::CertificateId::of_der(&der).as_str(),
                "commonName": code.as_str(),
                "notBefore": now.to_string(),
                "notAfter": not_after.to_string(),
            })))
        }
        Command::CreateProvisioningClaim {
            template_name,
            issuer_cert,
            issuer_key,
            registry: state,
            now,
            key_algorithm,
        } => {
            let now = now_or_clock(now.as_deref())?;
            let registry = registry(state.as_deref())?;
            let issuer = certificate_file(&issuer_cert)?;
            let signer = keys::Signer::from_pem(&read_pem(&issuer_key)?)
                .map_err(|e| Usage(format!("{}: {e}", issuer_key.display())))?;
            let result = (|| {
                let name = TemplateName::parse(&template_name)?;
                let claim = signer.claim(
                    &iot_ca::ClaimParams::new(&name, registry.template(&name), &issuer)
                        .with_key_algorithm(key_algorithm.into()),
                    &mut rng,
                    now,
                )?;
                Ok(wire::claim_to_json(&claim, TimeFormat::Rfc3339))
            })();
            issuing(result, "--issuer-key", "--issuer-cert")
        }
        Command::CreateCertificateFromCsr { csr, issuer_cert, issuer_key, set_as_active, now, account } => {
            let now = now_or_clock(now.as_deref())?;
            let scope = account.scope()?;
            let issuer = certificate_file(&issuer_cert)?;
            let signer = keys::Signer::from_pem(&read_pem(&issuer_key)?)
                .map_err(|e| Usage(format!("{}: {e}", issuer_key.display())))?;
            let text = read_pem(&csr)?;
            let status =
                if set_as_active { iot_ca::CertificateStatus::Active } else { iot_ca::CertificateStatus::Inactive };
            let params = iot_ca::IssueParams::new(&issuer, status);
            let verified = match iot_ca::ParsedCsr::from_pem(&text).and_then(|c| c.verify(params.backend)) {
                Ok(verified) => verified,
                Err(e) => return Ok(service(Err(iot_ca::Error::from(e)))),
            };
            let result = signer
                .certificate_from_csr(&params, &verified, &scope, &mut rng, now)
                .map(|issued| wire::issued_certificate_to_json(&issued));
            issuing(result, "--issuer-key", "--issuer-cert")
        }
        Command::Demo => {
            let mut out = std::io::stdout().lock();
            demo::run(&mut out, &mut rng, now_or_clock(None)?).map_err(Usage)?;
            out.flush().map_err(stdout_fault)?;
            Ok(Outcome::Ok(Value::Null))
        }
    }
}

/// Prints a document on stdout; a write failure is a usage fault (exit 2) with one line.
fn print(v: &Value) -> Result<(), Usage> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(v).unwrap_or_default())
        .and_then(|()| out.flush())
        .map_err(|e| Usage(stdout_fault(e)))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = run(cli.command).and_then(|outcome| match outcome {
        Outcome::Ok(Value::Null) => Ok(ExitCode::SUCCESS),
        Outcome::Ok(v) => print(&v).map(|()| ExitCode::SUCCESS),
        Outcome::Service(v) => print(&v).map(|()| ExitCode::from(1)),
    });
    match outcome {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("iot-ca: {message}");
            ExitCode::from(2)
        }
    }
}
