// Typed calls into the Rust commands of src-tauri/src/lib.rs. Every value type comes from
// bindings.ts, which a test generates from the Rust DTOs (ts-rs).
import { Channel, convertFileSrc, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AppInfo,
  DraftDto,
  FaceAnalysisDto,
  FaceDoneDto,
  FieldErrorsDto,
  PreviewDto,
  QueueView,
  RemoteCaptureDto,
  RemoteLinkDto,
  ScanEventDto,
  SettingsDto,
  SyncDto,
  VerifyResultDto,
} from "./bindings";

export type * from "./bindings";
export { Channel };

/** Turns a rejected command into readable text. */
export function message(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return JSON.stringify(e);
}

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  uiReady: () => invoke<number>("ui_ready"),
  saveSettings: (settings: SettingsDto) => invoke<AppInfo>("save_settings", { settings }),
  signIn: (user: string, password: string) => invoke<AppInfo>("sign_in", { user, password }),
  signOut: () => invoke<AppInfo>("sign_out"),
  /** Rejects with FieldErrorsDto when the form is not valid. */
  startEnrollment: (userId: string, name: string) => invoke<DraftDto>("start_enrollment", { userId, name }),
  draft: () => invoke<DraftDto | null>("draft"),
  discardEnrollment: () => invoke<void>("discard_enrollment"),
  captureFinger: (position: number) => invoke<DraftDto>("capture_finger", { position }),
  markMissing: (position: number, kind: string, reason: string) =>
    invoke<DraftDto>("mark_missing", { position, kind, reason }),
  clearMissing: (position: number) => invoke<DraftDto>("clear_missing", { position }),
  /** Previews arrive as `face-preview` events; the analysis of the newest frame on `analysis`. */
  startFace: (analysis: Channel<FaceAnalysisDto>) => invoke<void>("start_face", { analysis }),
  /** Flow control: how many previews the window has painted in this stream. */
  stopFace: () => invoke<void>("stop_face"),
  submitEnrollment: () => invoke<string>("submit_enrollment"),
  syncNow: () => invoke<SyncDto>("sync_now"),
  queueView: () => invoke<QueueView>("queue_view"),
  retryEnrollment: (id: string) => invoke<QueueView>("retry_enrollment", { id }),
  kioskExit: (pin: string) => invoke<void>("kiosk_exit", { pin }),
  /** Admins only: the server answers an operator with 403, passed on as the rejection. */
  remotePending: (all: boolean) => invoke<RemoteCaptureDto[]>("remote_pending", { all }),
  remoteDecide: (tguid: string, approve: boolean, reason: string) => invoke<void>("remote_decide", { tguid, approve, reason }),
  /** Captures `positions` (fingers presented by the simulated person `presenter`) and verifies them against `userId`. */
  verifyPerson: (userId: string, presenter: string, positions: number[]) =>
    invoke<VerifyResultDto>("verify_person", { userId, presenter, positions }),
  remoteCreateLink: (clientId: string, email: string) => invoke<RemoteLinkDto>("remote_create_link", { clientId, email }),
};

export function isFieldErrors(e: unknown): e is FieldErrorsDto {
  return typeof e === "object" && e !== null && "user_id" in e && "name" in e;
}

/** Where the window loads preview frame `frame` of face stream `stream` (the `preview:` URI scheme),
 * telling Rust how many frames it has handled so far (flow control). */
export function previewUrl(p: PreviewDto, handled: number): string {
  // convertFileSrc gives the scheme's base as this platform spells it (preview://localhost/, or
  // http://preview.localhost/ on Windows); it would escape the slash of a path given to it.
  return `${convertFileSrc("", "preview")}${p.stream}/${p.frame}.jpg?handled=${handled}`;
}

export const events = {
  facePreview: (f: (p: PreviewDto) => void): Promise<UnlistenFn> => listen<PreviewDto>("face-preview", (e) => f(e.payload)),
  faceDone: (f: (p: FaceDoneDto) => void): Promise<UnlistenFn> => listen<FaceDoneDto>("face-done", (e) => f(e.payload)),
  scanEvent: (f: (p: ScanEventDto) => void): Promise<UnlistenFn> => listen<ScanEventDto>("scan-event", (e) => f(e.payload)),
  syncProgress: (f: (p: SyncDto) => void): Promise<UnlistenFn> => listen<SyncDto>("sync-progress", (e) => f(e.payload)),
};

export const MISSING_TYPES = ["AMPUTATED", "BANDAGED", "DAMAGED", "UNABLE_TO_CAPTURE"] as const;
