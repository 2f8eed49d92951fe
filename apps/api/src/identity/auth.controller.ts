import { Body, Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError, ErrorCode } from '@kura/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Authenticated, Public } from '@kura/access';
import {
  Actor, AuthService, BrowserLoginResult, ChangePasswordDto, clearedSessionCookies, csrfTokenFor, CurrentActor, LoginDto, LoginResult,
  sessionCookies, UsersService, UserView,
} from '@kura/identity';
import { LoginThrottleGuard } from './login-throttle.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @UseGuards(LoginThrottleGuard)
  @Post('login')
  @HttpCode(200)
  async login(@Body() dto: LoginDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<LoginResult | BrowserLoginResult> {
    // Login CSRF: a cross-site form can post urlencoded or text/plain without a preflight, never
    // JSON, so a cookie login that is not JSON is someone else's page logging the browser in.
    if (dto.session === 'cookie' && !req.is('application/json')) {
      throw new DomainError(ErrorCode.UnsupportedMediaType, 'A browser login must be sent as application/json.');
    }
    const result = await this.auth.login(dto.username, dto.password);
    if (dto.session !== 'cookie') return result;
    // The web console: the token goes only into an HttpOnly cookie, never to page scripts.
    res.setHeader('Set-Cookie', sessionCookies(result.accessToken, result.expiresIn, req.secure));
    return { tokenType: 'Cookie', expiresIn: result.expiresIn, mustChangePassword: result.mustChangePassword, csrfToken: csrfTokenFor(result.accessToken) };
  }

  @ApiBearerAuth()
  @Authenticated({ allowPendingPasswordChange: true })
  @UseGuards(LoginThrottleGuard)
  @Post('password')
  @HttpCode(204)
  changePassword(@CurrentActor() actor: Actor, @Body() dto: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(actor, dto.currentPassword, dto.newPassword);
  }

  @ApiBearerAuth()
  @Authenticated({ allowPendingPasswordChange: true })
  @Post('logout')
  @HttpCode(204)
  async logout(@CurrentActor() actor: Actor, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.auth.logout(actor);
    res.setHeader('Set-Cookie', clearedSessionCookies(req.secure));
  }

  @ApiBearerAuth()
  @Authenticated({ allowPendingPasswordChange: true })
  @Get('me')
  me(@CurrentActor() actor: Actor): Promise<UserView> {
    return this.users.get(actor.id);
  }
}
