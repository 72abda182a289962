/**
 * Projects are implicit: any project id a request names exists. Google's resource names carry the
 * project NUMBER in some APIs (Secret Manager answers `projects/123456789012/secrets/...` even when
 * asked with the id), so each id gets a stable number, and paths accept either form.
 */
import { createHash } from "node:crypto";

const PROJECT_ID_PATTERN = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

export class Projects {
  private readonly byNumber = new Map<string, string>();

  /** The stable 12-digit number of a project id (derived, so every run agrees). */
  numberOf(projectId: string): string {
    const digest = createHash("sha256").update(`project:${projectId}`).digest();
    const number = String(100_000_000_000 + (digest.readUIntBE(0, 6) % 900_000_000_000));
    this.byNumber.set(number, projectId);
    return number;
  }

  /** The project id a path segment names (an id, or a number seen before). */
  resolve(idOrNumber: string): string {
    if (/^[0-9]+$/.test(idOrNumber)) {
      const id = this.byNumber.get(idOrNumber);
      if (id === undefined) throw new Error(`unknown project number ${idOrNumber}`);
      return id;
    }
    return idOrNumber;
  }

  static isValidId(projectId: string): boolean {
    return PROJECT_ID_PATTERN.test(projectId);
  }
}
