/**
 * Who is acting. Built once per request by the auth guard from the session's user row;
 * services receive it as an argument (never from a request-scoped provider).
 */
export enum Role {
  Staff = 'staff',
  RecordsOfficer = 'records_officer',
  Auditor = 'auditor',
  Admin = 'admin',
}

export enum Designation {
  /** 事務取扱担当者: may touch documents marked as specific personal information. */
  MyNumberHandler = 'mynumber_handler',
}

export interface Actor {
  id: string;
  username: string;
  roles: Role[];
  /** 0–3, see Classification. */
  clearance: number;
  departments: string[];
  designations: Designation[];
  sessionId: string;
}

/** The system itself (worker jobs, bootstrap): audited under this name. */
export const SYSTEM_ACTOR_NAME = 'system';
